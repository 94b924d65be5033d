// The same definitions as helpers/balance.py (group_shares, balance_index,
// dominance_threshold, balance_flags); tests/test_board.py checks they agree.
var Balance = (function () {
  function groupShares(counts, totals, groupIds) {
    var out = {};
    groupIds.forEach(function (g) { out[g] = totals[g] ? (counts[g] || 0) / totals[g] : 0; });
    return out;
  }
  function balanceIndex(shares) {
    var values = Object.keys(shares).map(function (g) { return shares[g]; });
    var sum = values.reduce(function (a, b) { return a + b; }, 0);
    if (values.length < 2 || sum === 0) { return 0; }
    var h = 0;
    values.forEach(function (v) { var p = v / sum; if (p > 0) { h -= p * Math.log(p); } });
    return Math.abs(h / Math.log(values.length));
  }
  function dominanceThreshold(nGroups) { return nGroups ? (1 + 1 / nGroups) / 2 : 1; }
  function balanceFlags(shares, speakerTopShare) {
    var groups = Object.keys(shares), flags = [];
    groups.forEach(function (g) { if (shares[g] === 0) { flags.push('missing voice: ' + g); } });
    var total = groups.reduce(function (a, g) { return a + shares[g]; }, 0);
    if (total) {
      groups.forEach(function (g) {
        if (shares[g] / total > dominanceThreshold(groups.length) && groups.length > 1) { flags.push('dominated by ' + g); }
      });
    }
    if (speakerTopShare > 0.5) { flags.push('rests on one speaker'); }
    return flags;
  }
  return {groupShares: groupShares, balanceIndex: balanceIndex, dominanceThreshold: dominanceThreshold,
          balanceFlags: balanceFlags};
})();
