// Writes a results file merged from several `pushlab-load run` files, keeping the
// scenario block as the load generator wrote it (JSON.stringify would turn 30.0 into
// 30, and the results test reads the block back byte for byte), with the merged
// scenario's preset and feeds note put in. Used by broker-hop.sh and cluster-scale.sh.
const fs = require("fs");

const scenarioBlock = (text) => text.match(/\n  "scenario": \{[\s\S]*?\n  \},\n/)[0];

module.exports = function writeMerged(path, firstFile, merged) {
  const original = scenarioBlock(fs.readFileSync(firstFile, "utf8"))
    .replace(/"preset": "[^"]*"/, `"preset": ${JSON.stringify(merged.scenario.preset)}`)
    .replace(/\n  \},\n$/, `,\n    "feeds": ${JSON.stringify(merged.scenario.feeds)}\n  },\n`);
  const text = JSON.stringify(merged, null, 2) + "\n";
  fs.writeFileSync(path, text.replace(scenarioBlock(text), original));
};
