#!/usr/bin/env bash
# Listen-check: join the clips for one call text the way static/voice.js
# would (same tokenizer, same gap between clips) into a WAV, then print its
# format and level so a silent or overlong result shows up without ears.
#
#   bash scripts/voice/example.sh ['请A023号到通用综合受理3号窗口办理'] [/tmp/example.wav]
#
# Needs node and sox. Play the result with: play /tmp/example.wav
set -euo pipefail
export LC_ALL=C.UTF-8

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEXT=${1:-请A023号到通用综合受理3号窗口办理}
OUTWAV=${2:-/tmp/example.wav}
GAP=${GAP:-0.05}   # seconds between clips, as voice.js's default `gap`

mapfile -t FILES < <(cd "$ROOT" && TEXT="$TEXT" node -e '
  const fs = require("fs"), vm = require("vm");
  const w = {};
  vm.runInNewContext(fs.readFileSync("static/voice.js", "utf8"), { window: w });
  const m = JSON.parse(fs.readFileSync("static/voice/manifest.json", "utf8"));
  w.YichuangVoice.setManifest(m);
  const toks = w.YichuangVoice.tokenize(process.env.TEXT);
  console.error("tokens: " + toks.join(" "));
  for (const t of toks) console.log("static/voice/" + m.dir + m.clips[t]);
')
((${#FILES[@]})) || { echo "example.sh: nothing to say for '$TEXT'" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rate=$(soxi -r "$ROOT/${FILES[0]}")
sox -n -r "$rate" -c 1 "$TMP/gap.wav" trim 0 "$GAP"
args=()
for f in "${FILES[@]}"; do
  ((${#args[@]})) && args+=("$TMP/gap.wav")
  args+=("$ROOT/$f")
done
sox "${args[@]}" "$OUTWAV"

sox --i "$OUTWAV"
sox "$OUTWAV" -n stats 2>&1 | grep -E '^(Pk lev dB|RMS lev dB|Length s)'
