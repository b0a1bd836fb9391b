// Tests for static/voice.js, plain node: node --test scripts/voice/voice.test.js
// The browser script runs in a vm context with a stub window; the manifest is
// the real static/voice/manifest.json made by scripts/voice/generate.sh.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = fs.readFileSync(path.join(ROOT, 'static', 'voice.js'), 'utf8');
const MANIFEST_PATH = path.join(ROOT, 'static', 'voice', 'manifest.json');
const MANIFEST = JSON.parse(fs.readFileSync(MANIFEST_PATH, 'utf8'));

// Load voice.js into a fresh context; `extra` adds browser stubs to window.
function load(extra = {}) {
  const window = { console: { warn() {} }, ...extra };
  const context = vm.createContext({
    window,
    setTimeout,
    clearTimeout,
    fetch: extra.fetch,
    console: window.console,
  });
  vm.runInContext(SCRIPT, context, { filename: 'static/voice.js' });
  return window.YichuangVoice;
}

// Arrays made inside the vm context have another realm's prototype.
const plain = (a) => Array.from(a);

function voiceWithManifest() {
  const v = load();
  v.setManifest(MANIFEST);
  return v;
}

test('example call: ticket digit by digit, window number as cardinal', () => {
  const v = voiceWithManifest();
  const toks = plain(v.tokenize('请A023号到通用综合受理3号窗口办理'));
  assert.deepEqual(toks, ['请', 'A', '零', '二', '三', '号', '到', '通用综合受理', '三', '号窗口', '办理']);
});

test('two-digit window number and three-digit ticket', () => {
  const v = voiceWithManifest();
  const toks = plain(v.tokenize('请B105号到综合受理12号窗口办理'));
  assert.deepEqual(toks, ['请', 'B', '一', '零', '五', '号', '到', '综合受理', '十', '二', '号窗口', '办理']);
});

test('unknown characters are skipped', () => {
  const v = voiceWithManifest();
  // 龘 has no clip; punctuation and spaces are not spoken either.
  const toks = plain(v.tokenize('请龘A001号，到 出件 7号窗口！'));
  assert.deepEqual(toks, ['请', 'A', '零', '零', '一', '号', '到', '出件', '七', '号窗口']);
});

test('cardinal numbers', () => {
  const v = load();
  const c = (n) => plain(v.cardinal(n)).join('');
  assert.equal(c(0), '零');
  assert.equal(c(3), '三');
  assert.equal(c(10), '十');
  assert.equal(c(12), '十二');
  assert.equal(c(20), '二十');
  assert.equal(c(99), '九十九');
  assert.equal(c(100), '一百');
  assert.equal(c(105), '一百零五');
  assert.equal(c(110), '一百一十');
  assert.equal(c(999), '九百九十九');
  assert.equal(v.cardinal(1000), null);
});

test('window numbers in context: 20, 105, and a run too long for a cardinal', () => {
  const v = voiceWithManifest();
  assert.deepEqual(plain(v.tokenize('20号窗口')), ['二', '十', '号窗口']);
  assert.deepEqual(plain(v.tokenize('到105号窗口')), ['到', '一', '百', '零', '五', '号窗口']);
  assert.deepEqual(plain(v.tokenize('1234号')), ['一', '二', '三', '四', '号']);
  // A leading zero marks a ticket number even without a letter.
  assert.deepEqual(plain(v.tokenize('请023号')), ['请', '零', '二', '三', '号']);
  // Digits not before 号 are read one by one.
  assert.deepEqual(plain(v.tokenize('12')), ['一', '二']);
});

test('letters: lower case and full-width forms', () => {
  const v = voiceWithManifest();
  assert.deepEqual(plain(v.tokenize('请ａ０２３号')), ['请', 'A', '零', '二', '三', '号']);
  assert.deepEqual(plain(v.tokenize('请ab7号')), ['请', 'A', 'B', '七', '号']);
});

test('longest match over phrases, per-character fallback for other words', () => {
  const v = voiceWithManifest();
  assert.deepEqual(plain(v.tokenize('请到公安集成综合受理')), ['请到', '公安集成综合受理']);
  assert.deepEqual(plain(v.tokenize('到不动产登记')), ['到', '不', '动', '产', '登', '记']);
  assert.deepEqual(plain(v.tokenize('延时错时预约窗口')), ['延时错时预约窗口']);
});

test('without a manifest nothing is spoken; an explicit manifest can be passed', () => {
  const v = load();
  assert.deepEqual(plain(v.tokenize('请A1号')), []);
  assert.deepEqual(plain(v.tokenize('请A1号', { 请: 'x.ogg', A: 'a.ogg', 一: '1.ogg' })), ['请', 'A', '一']);
});

test('manifest: every token the display needs has a clip, and every clip exists', () => {
  const clips = MANIFEST.clips;
  const required = [
    '请', '号', '到', '窗口', '办理', '号窗口', '请到',
    '通用综合受理', '综合受理', '出件', '公安集成综合受理', '公共服务综合受理', '办不成事反映',
    '帮办代办', '延时错时预约窗口', '一件事一次办', '惠企政策兑现', '异地通办', '政务专递',
    '零', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '百',
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ];
  for (const t of required) assert.ok(clips[t], `no clip for ${t}`);
  const zoneWords = '不动产登记 市场准入 工程建设项目 人社医保 公安集成 税务集成 公积金 通用综合 关爱专区 ' +
    '婚姻登记 法律服务 企业服务 公共服务 异地通办 惠企政策兑现 自助区 预约 延时 错时 受理 专区 服务';
  for (const ch of required.join('') + zoneWords.replace(/ /g, '')) {
    assert.ok(clips[ch], `no per-character clip for ${ch}`);
  }
  const files = Object.values(clips);
  assert.equal(new Set(files).size, files.length, 'two tokens share a file');
  for (const f of files) {
    assert.match(f, /^[a-z0-9_]+\.ogg$/);
    const p = path.join(path.dirname(MANIFEST_PATH), MANIFEST.dir, f);
    assert.ok(fs.statSync(p).size > 0, `${f} is empty`);
  }
});

// ---- playback with stubbed browser audio -----------------------------------

function fakeFetch(missing = new Set()) {
  return async (url) => {
    const name = url.split('/').pop();
    if (url.endsWith('manifest.json')) return { ok: true, status: 200, json: async () => MANIFEST };
    if (missing.has(name)) return { ok: false, status: 404 };
    return { ok: true, status: 200, arrayBuffer: async () => ({ name }) };
  };
}

function fakeAudioContext(log) {
  return class FakeAudioContext {
    constructor() {
      this.state = 'running';
      this.currentTime = 0;
      this.sampleRate = 22050;
      this.destination = {};
    }
    resume() { return Promise.resolve(); }
    decodeAudioData(data) { return Promise.resolve({ name: data.name, duration: 0.5 }); }
    createBuffer() { return { duration: 0 }; }
    createGain() {
      return { gain: { value: 1 }, connect() {}, disconnect() {} };
    }
    createBufferSource() {
      const ctx = this;
      return {
        connect() {},
        start(t) {
          if (!this.buffer.name) return; // unlock()'s silent sample
          log.push({ clip: this.buffer.name, at: t });
          setTimeout(() => {
            ctx.currentTime = Math.max(ctx.currentTime, t + this.buffer.duration);
            if (this.onended) this.onended();
          }, 2);
        },
        stop() {},
      };
    }
  };
}

test('announce: clips scheduled back to back, repeated, missing clip skipped', async () => {
  const log = [];
  const v = load({ AudioContext: fakeAudioContext(log), fetch: fakeFetch(new Set(['w_zonghe.ogg'])) });
  await v.unlock();
  await v.announce('请A1号到综合受理2号窗口', { repeat: 2, volume: 0.5, gap: 0.1, pause: 1 });
  const names = log.map((e) => e.clip);
  const once = ['p_qing.ogg', 'ltr_a.ogg', 'd1.ogg', 'p_hao.ogg', 'p_dao.ogg', 'd2.ogg', 'p_haochuangkou.ogg'];
  assert.deepEqual(names, [...once, ...once]);
  // 0.5 s clips + 0.1 s gap; the second round starts after a 1 s pause.
  const at = log.map((e) => Math.round(e.at * 100) / 100);
  assert.deepEqual(at.slice(0, 3), [0.05, 0.65, 1.25]);
  assert.equal(at[7], Math.round((0.05 + 7 * 0.5 + 6 * 0.1 + 1) * 100) / 100);
});

test('announce: queued announcements do not overlap; disabled means silent', async () => {
  const log = [];
  const v = load({ AudioContext: fakeAudioContext(log), fetch: fakeFetch() });
  const first = v.announce('请A1号');
  const second = v.announce('请B2号');
  await Promise.all([first, second]);
  assert.deepEqual(log.map((e) => e.clip), [
    'p_qing.ogg', 'ltr_a.ogg', 'd1.ogg', 'p_hao.ogg',
    'p_qing.ogg', 'ltr_b.ogg', 'd2.ogg', 'p_hao.ogg',
  ]);
  // The second starts on the audio clock after the first has ended.
  assert.ok(log[4].at >= log[3].at + 0.5);
  v.setEnabled(false);
  await v.announce('请C3号');
  assert.equal(log.length, 8);
});

test('announce: <audio> fallback without Web Audio, missing clip skipped', async () => {
  const played = [];
  class FakeAudio {
    constructor(url) { this.src = url; this.volume = 1; this.currentTime = 0; }
    pause() {}
    play() {
      const name = this.src.split('/').pop();
      setTimeout(() => {
        if (name === 'p_dao.ogg') return this.onerror && this.onerror();
        played.push([name, this.volume]);
        if (this.onended) this.onended();
      }, 1);
      return Promise.resolve();
    }
  }
  const v = load({ Audio: FakeAudio, fetch: fakeFetch() });
  v.setVolume(0.3);
  await v.announce('请A1号到出件', { gap: 0 });
  assert.deepEqual(played.map((p) => p[0]), ['p_qing.ogg', 'ltr_a.ogg', 'd1.ogg', 'p_hao.ogg', 'w_chujian.ogg']);
  assert.ok(played.every((p) => p[1] === 0.3));
});
