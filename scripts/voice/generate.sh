#!/usr/bin/env bash
# Yichuang (一窗) lobby voice clips: synthesise every spoken token offline with
# espeak-ng and write static/voice/clips/*.ogg plus static/voice/manifest.json.
#
#   bash scripts/voice/generate.sh            # from anywhere inside the repo
#
# Needs espeak-ng and sox with Ogg Vorbis support (this script installs nothing):
#   apt-get install espeak-ng sox libsox-fmt-all
#
# Deterministic and re-runnable: the same tools give byte-identical files
# (sox -R seeds its dither and the Ogg serial number with fixed values).
# Knobs (environment): ZH_VOICE, EN_VOICE, SPEED (words/min), PITCH (0-99),
# RATE (Hz), QUALITY (Vorbis -1..10), TARGET_RMS and PEAK_MAX (dBFS).
# To use human recordings instead, see static/voice/README.md.
set -euo pipefail
export LC_ALL=C.UTF-8

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$ROOT/static/voice"

# espeak-ng 1.51's plain "cmn" voice reads part of its own pinyin aloud in
# English ("请" comes out as "king three"); cmn-latn-pinyin gives real Mandarin.
ZH_VOICE=${ZH_VOICE:-cmn-latn-pinyin}
EN_VOICE=${EN_VOICE:-en}          # letters: names as read in Chinese halls (A = "ei")
SPEED=${SPEED:-180}
PITCH=${PITCH:-50}
RATE=${RATE:-22050}
QUALITY=${QUALITY:-2}
TARGET_RMS=${TARGET_RMS:--20}
PEAK_MAX=${PEAK_MAX:--1.5}

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox >/dev/null 2>&1 || missing+=(sox)
if ((${#missing[@]})); then
  echo "generate.sh: missing ${missing[*]}. Install with:" >&2
  echo "  apt-get install espeak-ng sox libsox-fmt-all" >&2
  exit 1
fi
if ! sox -h 2>/dev/null | grep -qw vorbis; then
  echo "generate.sh: sox cannot write Ogg Vorbis. Install with:" >&2
  echo "  apt-get install sox libsox-fmt-all" >&2
  exit 1
fi
for v in "$ZH_VOICE" "$EN_VOICE"; do
  if ! espeak-ng -v "$v" -q "" >/dev/null 2>&1; then
    echo "generate.sh: espeak-ng has no voice '$v' (apt-get install espeak-ng)" >&2
    exit 1
  fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/clips"

declare -A FILE_OF=()   # token -> file name
ORDER=()                # tokens in manifest order

# synth FILE VOICE TOKEN [SPOKEN]: one clip; SPOKEN (default TOKEN) is what
# espeak-ng reads, e.g. tone-numbered pinyin where its dictionary is wrong.
synth() {
  local file=$1 voice=$2 token=$3 spoken=${4:-$3}
  if [[ -n ${FILE_OF[$token]+x} ]]; then
    echo "generate.sh: duplicate token '$token'" >&2
    exit 1
  fi
  espeak-ng -v "$voice" -s "$SPEED" -p "$PITCH" -w "$TMP/raw.wav" "$spoken"
  # Trim leading and trailing silence (trailing: reverse, trim, reverse back).
  sox -R "$TMP/raw.wav" -c 1 "$TMP/trim.wav" \
    silence 1 0.01 -45d reverse silence 1 0.01 -45d reverse
  # Loudness: bring every clip to the same RMS level, but never let a peak
  # go above PEAK_MAX (headroom for the lossy encoder), so nothing clips.
  # (No "gain -l": sox then misreads a negative gain such as -6.33.)
  local rms peak gain
  read -r rms peak < <(sox "$TMP/trim.wav" -n stats 2>&1 |
    awk '/^RMS lev dB/ {r = $4} /^Pk lev dB/ {p = $4} END {print r, p}')
  gain=$(awk -v t="$TARGET_RMS" -v r="$rms" -v p="$peak" -v m="$PEAK_MAX" \
    'BEGIN {g = t - r; if (p + g > m) g = m - p; printf "%.2f", g}')
  sox -R "$TMP/trim.wav" --comment "" -r "$RATE" -c 1 -C "$QUALITY" \
    "$TMP/clips/$file" gain "$gain" fade 0.005 -0 0.01
  FILE_OF[$token]=$file
  ORDER+=("$token")
}

# --- phrases -------------------------------------------------------------
synth p_qing.ogg         "$ZH_VOICE" 请
synth p_hao.ogg          "$ZH_VOICE" 号
synth p_dao.ogg          "$ZH_VOICE" 到
synth p_chuangkou.ogg    "$ZH_VOICE" 窗口
synth p_banli.ogg        "$ZH_VOICE" 办理
synth p_haochuangkou.ogg "$ZH_VOICE" 号窗口
synth p_qingdao.ogg      "$ZH_VOICE" 请到

# --- window names (whole phrases read better than joined characters) ------
synth w_tongyong.ogg     "$ZH_VOICE" 通用综合受理
synth w_zonghe.ogg       "$ZH_VOICE" 综合受理
synth w_chujian.ogg      "$ZH_VOICE" 出件
synth w_gongan.ogg       "$ZH_VOICE" 公安集成综合受理
synth w_gonggong.ogg     "$ZH_VOICE" 公共服务综合受理 "gong1 gong4 fu2 wu4 zong1 he2 shou4 li3"
synth w_fanying.ogg      "$ZH_VOICE" 办不成事反映
synth w_bangban.ogg      "$ZH_VOICE" 帮办代办
synth w_yanshi.ogg       "$ZH_VOICE" 延时错时预约窗口
synth w_yijianshi.ogg    "$ZH_VOICE" 一件事一次办 "yi2 jian4 shi4 yi2 ci4 ban4"
synth w_huiqi.ogg        "$ZH_VOICE" 惠企政策兑现
synth w_yidi.ogg         "$ZH_VOICE" 异地通办 "yi4 di4 tong1 ban4"
synth w_zhengwu.ogg      "$ZH_VOICE" 政务专递 "zheng4 wu4 zhuan1 di4"

# --- digits (ticket numbers digit by digit, window numbers as cardinals) --
DIGITS=(零 一 二 三 四 五 六 七 八 九)
for i in "${!DIGITS[@]}"; do
  synth "d$i.ogg" "$ZH_VOICE" "${DIGITS[$i]}"
done
synth d10.ogg  "$ZH_VOICE" 十
synth d100.ogg "$ZH_VOICE" 百

# --- Latin letters, read by their English names ---------------------------
for l in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z; do
  synth "ltr_${l,,}.ogg" "$EN_VOICE" "$l"
done

# --- per-character fallback clips ------------------------------------------
# Every character of the phrases above plus the zone/window words, once, in
# order of first appearance; characters that already are a token are skipped.
WORDS=(
  请 号 到 窗口 办理 号窗口 请到
  通用综合受理 综合受理 出件 公安集成综合受理 公共服务综合受理 办不成事反映
  帮办代办 延时错时预约窗口 一件事一次办 惠企政策兑现 异地通办 政务专递
  不动产登记 市场准入 工程建设项目 人社医保 公安集成 税务集成 公积金 通用综合
  关爱专区 婚姻登记 法律服务 企业服务 公共服务 异地通办 惠企政策兑现 自助区
  预约 延时 错时 受理 专区 服务 一 二 三
)
# Read alone, espeak-ng's dictionary gives these the neutral tone.
declare -A CHAR_SPOKEN=([务]="wu4" [地]="di4")
for word in "${WORDS[@]}"; do
  while IFS= read -r ch; do
    [[ -z $ch || -n ${FILE_OF[$ch]+x} ]] && continue
    cp=$(printf '%04x' "'$ch")
    synth "c_$cp.ogg" "$ZH_VOICE" "$ch" "${CHAR_SPOKEN[$ch]:-$ch}"
  done < <(grep -o . <<<"$word")
done

# --- manifest ----------------------------------------------------------------
{
  printf '{\n  "version": 1,\n  "dir": "clips/",\n  "clips": {\n'
  n=${#ORDER[@]}
  for i in "${!ORDER[@]}"; do
    tok=${ORDER[$i]}
    sep=','
    ((i == n - 1)) && sep=''
    printf '    "%s": "%s"%s\n' "$tok" "${FILE_OF[$tok]}" "$sep"
  done
  printf '  }\n}\n'
} >"$TMP/manifest.json"

# Replace the old output only once everything has been made.
mkdir -p "$OUT"
rm -rf "$OUT/clips"
mv "$TMP/clips" "$OUT/clips"
mv "$TMP/manifest.json" "$OUT/manifest.json"

total=$(du -cb "$OUT/clips" "$OUT/manifest.json" | awk 'END {print $1}')
echo "generate.sh: ${#ORDER[@]} clips, $total bytes in ${OUT#"$ROOT"/}/"
