/*
 * Yichuang (一窗) lobby voice announcements, fully offline.
 *
 * Speaks call texts such as "请A023号到通用综合受理3号窗口办理" by joining the
 * pre-made clips in /static/voice/clips/ (listed in /static/voice/manifest.json,
 * made by scripts/voice/generate.sh). No cloud text-to-speech, no speechSynthesis.
 *
 * Usage on the display page:
 *
 *   <button type="button" id="voice-unlock">启用语音播报</button>
 *   <script src="/static/voice.js"></script>
 *   <script>
 *     // Browsers keep audio muted until the user interacts with the page, so
 *     // unlock() must run inside a click (or key) handler. Once, per page load.
 *     document.getElementById('voice-unlock').addEventListener('click', function () {
 *       YichuangVoice.unlock();
 *       this.hidden = true;
 *     });
 *     // On every call event:
 *     YichuangVoice.announce('请A023号到通用综合受理3号窗口办理', { repeat: 2 });
 *   </script>
 *
 * API (window.YichuangVoice):
 *   announce(text, {volume, repeat, gap, pause}) -> Promise, resolved when spoken
 *       (or skipped). Announcements are queued and never overlap. repeat is the
 *       number of times the text is spoken (default 1), with `pause` seconds
 *       between them (default 0.8); gap is the silence between clips (default 0.05 s).
 *   unlock()            call from a user gesture; enables audio output.
 *   setEnabled(bool)    off: stops what is playing and drops the queue.
 *   setVolume(v)        0..1, default for announcements without `volume`.
 *   stop()              stops what is playing and drops the queue.
 *   tokenize(text[, manifest]) -> array of manifest tokens (pure; for tests).
 *   setManifest(obj), loadManifest() -> Promise.
 *   options.baseUrl     where manifest.json lives (default "/static/voice/").
 *
 * ES2017, no modules, no dependencies.
 */
(function (root) {
  'use strict';

  var DIGIT_WORDS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
  var TEN = '十';
  var HUNDRED = '百';

  var options = { baseUrl: '/static/voice/', gap: 0.05, pause: 0.8 };
  var manifest = null; // { clips: {token: file}, dir: 'clips/', maxLen: n }
  var manifestPromise = null;
  var enabled = true;
  var volume = 1;

  // ---------------------------------------------------------------- tokenizer

  function normaliseManifest(m) {
    if (!m || typeof m !== 'object') return { clips: {}, dir: 'clips/', maxLen: 1 };
    var clips = m.clips && typeof m.clips === 'object' ? m.clips : m;
    var out = {};
    var maxLen = 1;
    Object.keys(clips).forEach(function (k) {
      if (typeof clips[k] !== 'string') return;
      out[k] = clips[k];
      var len = Array.from(k).length;
      if (len > maxLen) maxLen = len;
    });
    var dir = typeof m.dir === 'string' ? m.dir : 'clips/';
    return { clips: out, dir: dir, maxLen: maxLen };
  }

  function isAsciiDigit(c) {
    return c >= '0' && c <= '9';
  }

  function isAsciiLetter(c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }

  function digitsOneByOne(run) {
    return Array.from(run).map(function (c) {
      return DIGIT_WORDS[c.charCodeAt(0) - 48];
    });
  }

  // Mandarin cardinal for 0..999: 3 -> 三, 12 -> 十二, 20 -> 二十, 105 -> 一百零五,
  // 110 -> 一百一十. Returns null outside that range.
  function cardinal(n) {
    if (!(n >= 0 && n <= 999) || Math.floor(n) !== n) return null;
    if (n < 10) return [DIGIT_WORDS[n]];
    var h = Math.floor(n / 100);
    var t = Math.floor((n % 100) / 10);
    var u = n % 10;
    var out = [];
    if (h) {
      out.push(DIGIT_WORDS[h], HUNDRED);
      if (t) out.push(DIGIT_WORDS[t], TEN);
      else if (u) out.push(DIGIT_WORDS[0]);
      if (u) out.push(DIGIT_WORDS[u]);
      return out;
    }
    if (t > 1) out.push(DIGIT_WORDS[t]);
    out.push(TEN);
    if (u) out.push(DIGIT_WORDS[u]);
    return out;
  }

  // A digit run that is not part of a ticket number and stands right before
  // 号 (号, 号窗口) or 窗 is a window number: read it as a cardinal. A leading
  // zero ("023号") marks a ticket number, read digit by digit like any other run.
  function readDigitRun(run, next, afterLetter) {
    if (!afterLetter && (next === '号' || next === '窗') && !(run.length > 1 && run[0] === '0')) {
      var words = cardinal(parseInt(run, 10));
      if (words) return words;
    }
    return digitsOneByOne(run);
  }

  /**
   * Split a call text into manifest tokens. Longest match over the manifest's
   * phrases; "A023" -> A 零 二 三; "12号窗口" -> 十 二 号窗口; Chinese characters
   * without a phrase fall back to per-character clips; anything else is skipped.
   */
  function tokenize(text, m) {
    var mf = m ? normaliseManifest(m) : manifest || normaliseManifest(null);
    var clips = mf.clips;
    var has = function (tok) {
      return Object.prototype.hasOwnProperty.call(clips, tok);
    };
    // NFKC folds full-width letters and digits (Ａ０２３) into ASCII.
    var chars = Array.from(String(text == null ? '' : text).normalize('NFKC'));
    var out = [];
    var push = function (tok) {
      if (has(tok)) out.push(tok);
    };
    var i = 0;
    var afterLetter = false;
    while (i < chars.length) {
      var c = chars[i];
      if (isAsciiLetter(c)) {
        push(c.toUpperCase());
        afterLetter = true;
        i += 1;
        continue;
      }
      if (isAsciiDigit(c)) {
        var j = i;
        while (j < chars.length && isAsciiDigit(chars[j])) j += 1;
        readDigitRun(chars.slice(i, j).join(''), chars[j], afterLetter).forEach(push);
        afterLetter = false;
        i = j;
        continue;
      }
      afterLetter = false;
      var matched = 0;
      for (var len = Math.min(mf.maxLen, chars.length - i); len >= 1; len -= 1) {
        var cand = chars.slice(i, i + len).join('');
        if (has(cand)) {
          out.push(cand);
          matched = len;
          break;
        }
      }
      i += matched || 1; // unknown character: skipped
    }
    return out;
  }

  // ---------------------------------------------------------------- manifest

  function setManifest(m) {
    manifest = normaliseManifest(m);
    manifestPromise = Promise.resolve(manifest);
    return manifest;
  }

  function loadManifest() {
    if (manifestPromise) return manifestPromise;
    var url = options.baseUrl + 'manifest.json';
    manifestPromise = fetch(url, { cache: 'no-cache' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status + ' for ' + url);
        return res.json();
      })
      .then(setManifest)
      .catch(function (err) {
        manifestPromise = null; // try again on the next announcement
        warn('voice manifest not loaded', err);
        return null;
      });
    return manifestPromise;
  }

  function clipUrl(tok) {
    var file = manifest && manifest.clips[tok];
    return file ? options.baseUrl + manifest.dir + file : null;
  }

  function warn(msg, err) {
    if (root.console && root.console.warn) root.console.warn('[YichuangVoice] ' + msg, err || '');
  }

  // ---------------------------------------------------------------- audio

  var ctx = null;
  var ctxFailed = false;
  var buffers = {}; // url -> Promise<AudioBuffer|null>
  var elements = {}; // url -> HTMLAudioElement (fallback)
  var current = null; // { stop() } of what is playing now
  var queue = Promise.resolve();
  var generation = 0; // bumped by stop(): queued announcements then do nothing

  function audioContextClass() {
    return root.AudioContext || root.webkitAudioContext || null;
  }

  function getContext() {
    if (ctx || ctxFailed) return ctx;
    var AC = audioContextClass();
    if (!AC) {
      ctxFailed = true;
      return null;
    }
    try {
      ctx = new AC();
    } catch (err) {
      ctxFailed = true;
      warn('AudioContext unavailable, using <audio>', err);
    }
    return ctx;
  }

  function decode(ac, data) {
    // Old Safari only has the callback form of decodeAudioData.
    return new Promise(function (resolve, reject) {
      var p = ac.decodeAudioData(data, resolve, reject);
      if (p && typeof p.then === 'function') p.then(resolve, reject);
    });
  }

  function loadBuffer(ac, url) {
    if (!buffers[url]) {
      buffers[url] = fetch(url)
        .then(function (res) {
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.arrayBuffer();
        })
        .then(function (data) {
          return decode(ac, data);
        })
        .catch(function (err) {
          warn('clip skipped: ' + url, err);
          delete buffers[url]; // a later announcement may try again
          return null;
        });
    }
    return buffers[url];
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // Web Audio: decode everything first, then schedule all clips on the audio
  // clock back to back, so there is no gap between them but the one we choose.
  async function playWebAudio(ac, urls, opts, gen) {
    if (ac.state === 'suspended' && ac.resume) {
      // Before unlock() the browser may leave resume() pending for ever: give
      // it a moment, then drop this announcement rather than pile up a backlog.
      await Promise.race([ac.resume().catch(function () {}), sleep(300)]);
    }
    if (ac.state && ac.state !== 'running') {
      warn('audio locked: call YichuangVoice.unlock() from a click; announcement dropped');
      return;
    }
    var list = (await Promise.all(urls.map(function (u) {
      return loadBuffer(ac, u);
    }))).filter(Boolean);
    if (!list.length || gen !== generation || !enabled) return;
    var gain = ac.createGain();
    gain.gain.value = opts.volume;
    gain.connect(ac.destination);
    var sources = [];
    var t = ac.currentTime + 0.05;
    for (var r = 0; r < opts.repeat; r += 1) {
      if (r) t += opts.pause;
      for (var k = 0; k < list.length; k += 1) {
        var src = ac.createBufferSource();
        src.buffer = list[k];
        src.connect(gain);
        src.start(t);
        sources.push(src);
        t += list[k].duration + (k < list.length - 1 ? opts.gap : 0);
      }
    }
    await new Promise(function (resolve) {
      var done = false;
      var timer = null;
      var finish = function () {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        resolve();
      };
      sources[sources.length - 1].onended = finish;
      // Safety net if onended never fires (e.g. context closed).
      timer = setTimeout(finish, Math.max(0, (t - ac.currentTime) * 1000) + 1500);
      current = {
        stop: function () {
          sources.forEach(function (s) {
            try {
              s.stop();
            } catch (err) {
              /* not started yet or already stopped */
            }
          });
          finish();
        },
      };
    });
    current = null;
    try {
      gain.disconnect();
    } catch (err) {
      /* ignore */
    }
  }

  // <audio> fallback: one element per clip, played one after another.
  function playElement(url, vol) {
    return new Promise(function (resolve) {
      var el = elements[url];
      if (!el) {
        el = new root.Audio(url);
        el.preload = 'auto';
        elements[url] = el;
      }
      var done = false;
      var finish = function () {
        if (done) return;
        done = true;
        el.onended = el.onerror = null;
        current = null;
        resolve();
      };
      el.onended = finish;
      el.onerror = function () {
        warn('clip skipped: ' + url);
        delete elements[url];
        finish();
      };
      el.volume = vol;
      try {
        el.currentTime = 0;
      } catch (err) {
        /* not loaded yet */
      }
      current = {
        stop: function () {
          el.pause();
          finish();
        },
      };
      var p = el.play();
      if (p && typeof p.catch === 'function') {
        p.catch(function (err) {
          warn('clip not played: ' + url, err);
          finish();
        });
      }
    });
  }

  async function playElements(urls, opts, gen) {
    if (!root.Audio) return;
    for (var r = 0; r < opts.repeat; r += 1) {
      if (r) await sleep(opts.pause * 1000);
      for (var k = 0; k < urls.length; k += 1) {
        if (gen !== generation || !enabled) return;
        await playElement(urls[k], opts.volume);
        if (opts.gap && k < urls.length - 1) await sleep(opts.gap * 1000);
      }
    }
  }

  function clampVolume(v, dflt) {
    var n = Number(v);
    if (v == null || isNaN(n)) return dflt;
    return Math.min(1, Math.max(0, n));
  }

  async function speak(text, opts, gen) {
    if (gen !== generation || !enabled) return;
    await loadManifest();
    if (!manifest || gen !== generation || !enabled) return;
    var urls = tokenize(text).map(clipUrl).filter(Boolean);
    if (!urls.length) return;
    var ac = getContext();
    if (ac) await playWebAudio(ac, urls, opts, gen);
    else await playElements(urls, opts, gen);
  }

  function announce(text, o) {
    o = o || {};
    var opts = {
      volume: clampVolume(o.volume, volume),
      repeat: Math.max(1, Math.floor(Number(o.repeat) || 1)),
      gap: o.gap != null ? Math.max(0, Number(o.gap) || 0) : options.gap,
      pause: o.pause != null ? Math.max(0, Number(o.pause) || 0) : options.pause,
    };
    var gen = generation;
    var run = function () {
      return speak(text, opts, gen).catch(function (err) {
        warn('announcement failed', err);
      });
    };
    queue = queue.then(run, run);
    return queue;
  }

  function stop() {
    generation += 1;
    if (current) current.stop();
  }

  function setEnabled(on) {
    enabled = !!on;
    if (!enabled) stop();
  }

  function setVolume(v) {
    volume = clampVolume(v, volume);
  }

  // A tiny silent WAV for unlocking <audio> where Web Audio is missing.
  function silentWavUrl() {
    var bytes = [82, 73, 70, 70, 38, 0, 0, 0, 87, 65, 86, 69, 102, 109, 116, 32, 16, 0, 0, 0,
      1, 0, 1, 0, 64, 31, 0, 0, 64, 31, 0, 0, 1, 0, 8, 0, 100, 97, 116, 97, 2, 0, 0, 0, 128, 128];
    return 'data:audio/wav;base64,' + root.btoa(String.fromCharCode.apply(null, bytes));
  }

  /**
   * Call from a user gesture (click on "启用语音播报"): browsers only let a page
   * make sound after the user has interacted with it. Creates/resumes the
   * AudioContext and plays a silent sample; also starts loading the manifest.
   */
  function unlock() {
    var ac = getContext();
    var p;
    if (ac) {
      try {
        var b = ac.createBuffer(1, 1, ac.sampleRate || 22050);
        var s = ac.createBufferSource();
        s.buffer = b;
        s.connect(ac.destination);
        s.start(0);
      } catch (err) {
        /* ignore */
      }
      p = ac.resume ? ac.resume() : Promise.resolve();
    } else if (root.Audio && root.btoa) {
      var el = new root.Audio(silentWavUrl());
      p = el.play();
    }
    loadManifest();
    return Promise.resolve(p).then(
      function () {
        return true;
      },
      function () {
        return false;
      }
    );
  }

  root.YichuangVoice = {
    announce: announce,
    unlock: unlock,
    stop: stop,
    setEnabled: setEnabled,
    isEnabled: function () {
      return enabled;
    },
    setVolume: setVolume,
    tokenize: tokenize,
    cardinal: cardinal,
    setManifest: setManifest,
    loadManifest: loadManifest,
    options: options,
  };
})(typeof window !== 'undefined' ? window : this);
