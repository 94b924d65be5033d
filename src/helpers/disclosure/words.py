"""The word lists of the disclosure check, and how a word is compared with them.

Given names and surnames worth a look, the everyday words that are also names, name
particles, the UK's postcode areas and the capitalised words that are not names: each
list says what it is for; docs/disclosure_check.md says how they were measured.
"""

from __future__ import annotations

import unicodedata

# Common British given names: a name that is not one of the group's pseudonyms is worth a look.
COMMON_GIVEN_NAMES = frozenset("""
aaron abdul abigail adam adrian aisha alan albert alex alexander alfie alice alison amanda amber amelia amy
andrea andrew angela anita ann anna anne annette anthony arthur ashley audrey barbara barry beatrice
ben benjamin bernard beth betty beverley bill billy brenda brian bridget callum carl carol caroline carolyn
catherine charlie charlotte chloe chris christine christopher claire clare colin connor craig daniel danny
darren david dean debbie deborah denise dennis derek diane donna doreen dorothy douglas edward eileen
elaine eleanor elizabeth ella ellie emily emma eric ethan eve fatima fiona frances gail gary gemma
geoffrey george georgia gillian gordon grace graham hannah harry hayley heather helen henry holly ian imran
irene isabel isla jack jackie jacob james jamie jane janet janice jason jean jennifer jenny jessica jill joan
joanne john jonathan joseph josh joshua joyce judith julie karen kate katie kathleen keith kelly kevin
kieran kim laura lauren leah lee leo lesley lewis lily linda lisa liam louise lucy lynn mandy margaret maria
marie mark martin mary matthew maureen megan melanie michael michelle mohammed muhammad natalie neil nicola
nicholas nigel noah norman oliver olivia pamela patricia patrick paul pauline peter philip rachel rebecca
richard robert roger rose ruby russell ruth ryan sally samantha samuel sandra sarah scott sharon sheila
shirley simon sophie stephen steven stuart susan suzanne sylvia teresa thomas tim timothy tina tom tony
tracey tracy trevor valerie vanessa victoria vincent wendy william yvonne zoe
philippa janine jeanette josephine lorna marion moira morag nina pippa rhian siân sian bethan ffion cerys
gareth dylan rhys owen huw iain hamish fraser alistair duncan euan shona kirsty ailsa niamh aoife ciaran
sinead declan priya anjali aisha zara omar tariq yusuf hassan bilal amir nadia sana
siobhan ciaran saoirse padraig sean eoin oisin caoimhe grainne roisin orla mairead dermot seamus
gwilym dafydd ieuan llinos angharad eluned gruffydd emyr aled carys delyth nia sioned
ewan eilidh catriona mhairi lachlan ruaridh alasdair kenneth
tomasz piotr krzysztof katarzyna agnieszka malgorzata magdalena wojciech marek pawel zofia
jakub kasia ania marta ewa joanna
rajesh ravi sanjay sunita deepak arjun pooja neha rahul vikram harpreet gurpreet jaswinder
manpreet simran anil sunil shabana nasreen farah ayesha usman kamran
adaeze chidi ngozi emeka oluwaseun funmilayo kwame kofi ama
zoe zoey chloe noemi
""".split())

#: Given names that are also everyday words ("Mark my words", "Grace period"): not
#: reported on their own at the start of a sentence, nor as the first word of a
#: lower-case full name.
GIVEN_NAME_WORDS = frozenset("""
mark grace rose bill jack holly ruby amber lily eve will dawn faith hope joy ray pat sue frank art carol
jean june may summer autumn sky penny heather hazel daisy poppy ivy olive jade crystal iris violet robin
dean lee kim sandy rob don nick guy drew gene kit bob
""".split())

#: Common surnames of Britain, Ireland and the families who live there, for lower-case
#: full names ("sarah jones"): the second word must look like a surname, because a
#: given name is followed by everyday words far more often ("grace said").
COMMON_SURNAMES = frozenset("""
smith jones williams taylor brown davies evans wilson thomas roberts johnson lewis walker robinson
thompson watson jackson wright harris cooper morgan hughes edwards clarke clark harrison scott morris
turner carter phillips mitchell adams campbell anderson allen bailey parker miller davis murphy bennett
richardson robertson reynolds lloyd ellis richards wilkinson graham stewart reid murray powell holmes
rogers stevens walsh thomson matthews kennedy saunders pearce harvey hudson gibson pearson jenkins
griffiths rees pritchard pryce parry llewellyn llywelyn bowen howells vaughan prosser probert bevan
gwynne morgans jenkin meredith
kelly byrne ryan doyle mccarthy gallagher lynch quinn mclaughlin carroll connolly daly dunne brennan
burke farrell fitzgerald maguire nolan flynn callaghan duffy boyle healy sweeney kavanagh mcgrath
moran brady casey foley fitzpatrick mcdonnell mcmahon donnelly donovan flanagan mullan sheehan whelan
higgins cullen keane maher mckenna hogan magee mcnamara mcdonald hurley dalaigh sullivan neill reilly
connor brien donnell doherty leary shea mahony
macdonald mackenzie macleod mackay maclean macgregor macintyre mcintosh fraser cameron sinclair munro
ferguson paterson henderson mcallister mckay
nowak kowalski kowalska wisniewski wisniewska wojcik kowalczyk kaminski kaminska lewandowski lewandowska
zielinski szymanski wozniak dabrowski kozlowski jankowski mazur kwiatkowski krawczyk piotrowski
grabowski pawlowski michalski
patel khan singh kaur ahmed ali hussain begum rahman shah sharma kumar gupta mistry chauhan akhtar
iqbal malik mahmood choudhury chowdhury das bose raman iyer nair reddy rao desai joshi mehta bhatt
okonkwo okafor adeyemi mensah owusu
muller schmidt schneider fischer weber meyer wagner becker hoffmann
""".split())

#: Everyday words that are also surnames: a lower-case one on its own is the word.
_SURNAME_WORDS = frozenset("""
brown green white black young king hill wood rose bell cook baker hunt power price ward hall fox gray
grey long short little rich strong wise young moss marsh ford banks field fields bush lamb page parsons
""".split())

#: Words that stand in for a name ("Mr Whoever") and identify nobody.
PLACEHOLDERS = frozenset({"whoever", "something", "someone", "somebody", "soandso", "so", "x", "blah"})

# Words inside a full name written in lower case or without a capital ("Ciarán Ó Dálaigh",
# "Maria de la Cruz", "Imran bin Yusuf").
NAME_PARTICLES = frozenset("ó ní nic mac mhic uí ua ap ab de da di du del della der den van von le la bin binti ibn "
                           "al el".split())

# Every UK postcode area (the letters before the first digit), so that a lower-case
# postcode ("sw1a 1aa") is found without flagging every letter-digit jumble.
POSTCODE_AREAS = frozenset("""
AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE
LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK
SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WE WF WN WR WS WV YO ZE
""".split())

#: Capitalised words that are not names: sentence openers, function words, calendar words
#: and the vocabulary of radiotherapy services. A run of capitalised words is trimmed of
#: these; what remains (two words or more) is reported as a possible full name. Measured
#: on the planted-identifier file and the bundled study (docs/disclosure_check.md).
COMMON_CAPITALISED = frozenset("""
a about after again all also although an and another any anyway are as at back be because
been before being both but by can could did do does doing don done down each even ever
every for from had has have he her here hers him his how however i if in into is it its
just let like many may maybe me might more most much must my no nobody none nor not now of
off oh ok okay on once one only or other our out over own please quite really right same
says see she should since so some someone something sometimes still such than thank
thanks that the their them then there these they this those though through to too under
until up us very was we well were what whatever when where whether which while who whoever
why will with within without would yeah yes yet you your um er erm ah hmm mm aye sorry
whereas unless less least besides meanwhile perhaps otherwise instead
mr mrs ms miss mx dr prof professor
honestly actually basically obviously definitely literally apparently exactly absolutely
lovely good great fine sure alright bless poor dear god gosh christ jesus lord goodness
first second third last next new old little big young
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december christmas easter spring summer autumn
winter weekend morning afternoon evening night today tomorrow yesterday
mum mam mom dad nan nana gran granny grandad grandma grandpa auntie uncle
nhs gp a&e macmillan maggie maggies marie curie cancer research radiotherapy chemo chemotherapy
oncology oncologist consultant registrar radiographer radiographers nurse nurses doctor doctors
sister matron ward unit clinic hospital department team trust centre health care service
ct mri pet scan linac machine mask couch gown review clinic planning treatment
english welsh scottish irish british england wales scotland ireland uk london
facebook google teams zoom whatsapp youtube bbc itv
""".split())

#: Words that follow a number without naming a street ("20 minutes up the road").
_MEASURE_WORDS = frozenset("""
minutes minute mins hours hour seconds days day weeks week months month years year miles mile
yards metres doors houses times sessions fractions goes people patients of
""".split())

#: English words written with accents; not surnames.
_ACCENTED_WORDS = frozenset(
    "cafe naive fiance fiancee role resume deja cliche facade creme soiree protege decor".split())


def fold(word: str) -> str:
    """``word`` in lower case without its accents ("Siân" -> "sian"), for the word lists."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
