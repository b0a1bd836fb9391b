// 一窗 API 文档: renders /api/v1/openapi.json (OpenAPI 3.1) with plain DOM calls.
// Every string from the spec goes through textContent / attribute setters, never innerHTML.
(function () {
  "use strict";
  var SPEC_URL = "/api/v1/openapi.json";
  var METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  var MAX_DEPTH = 6;
  var spec = null;

  // h("tag", {attr: value}, child...) — strings become text nodes; null/false are skipped.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) el.setAttribute(k, String(attrs[k]));
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(el, x); }); return; }
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  function slug(s) { return String(s).replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, ""); }
  function opId(method, path, op) { return "op-" + slug(op.operationId || method + "-" + path); }
  function schemaAnchor(name) { return "schema-" + slug(name); }
  function text(s) { return s === undefined || s === null ? "" : String(s); }
  function json(v) { try { return JSON.stringify(v); } catch (e) { return String(v); } }

  // Follow a local JSON pointer such as "#/components/schemas/Foo".
  function lookup(ref) {
    if (typeof ref !== "string" || ref.indexOf("#/") !== 0) return null;
    var node = spec;
    ref.slice(2).split("/").forEach(function (part) {
      part = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
      node = node && typeof node === "object" ? node[part] : undefined;
    });
    return node === undefined ? null : node;
  }
  function deref(obj) {
    for (var guard = 0; obj && obj.$ref && guard < 20; guard++) obj = lookup(obj.$ref) || {};
    return obj || {};
  }
  function refName(ref) { return ref.split("/").pop(); }

  function refLink(ref) {
    if (ref.indexOf("#/components/schemas/") === 0) {
      return h("a", { href: "#" + schemaAnchor(refName(ref)) }, refName(ref));
    }
    return h("code", null, ref);
  }

  // Short one-line type description: "string (date-time)", "array<Foo>", "A | null" ...
  function typeLabel(s) {
    if (!s || typeof s !== "object") return [s === true ? "any" : "never"];
    if (s.$ref) return [refLink(s.$ref)];
    var out = [];
    var types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    types.forEach(function (t, i) {
      if (i) out.push(" | ");
      if (t === "array") out.push("array<", s.items ? typeLabel(s.items) : "any", ">");
      else out.push(t);
    });
    ["oneOf", "anyOf", "allOf"].forEach(function (k) {
      if (!Array.isArray(s[k])) return;
      if (out.length) out.push(" & ");
      s[k].forEach(function (sub, i) {
        if (i) out.push(k === "allOf" ? " & " : " | ");
        out.push(typeLabel(sub));
      });
    });
    if (!out.length) out.push(s.properties ? "object" : s.const !== undefined ? "const" : "any");
    if (s.format) out.push(" (" + s.format + ")");
    return out;
  }

  // Facts about a schema shown after its type: enum, const, default, limits, description.
  function facts(s) {
    if (!s || typeof s !== "object" || s.$ref) return null;
    var bits = [];
    if (Array.isArray(s.enum)) bits.push(h("span", { class: "muted" }, " 取值: "), s.enum.map(function (v, i) {
      return [i ? ", " : "", h("code", null, json(v))];
    }));
    if (s.const !== undefined) bits.push(h("span", { class: "muted" }, " 常量: "), h("code", null, json(s.const)));
    if (s.default !== undefined) bits.push(h("span", { class: "muted" }, " 默认: "), h("code", null, json(s.default)));
    ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern"].forEach(function (k) {
      if (s[k] !== undefined) bits.push(h("span", { class: "muted" }, " " + k + "=" + s[k]));
    });
    if (s.deprecated) bits.push(" ", h("span", { class: "badge warn" }, "已弃用"));
    if (s.description) bits.push(h("div", { class: "desc" }, s.description));
    return bits;
  }

  // Nested list of a schema's structure. `seen` stops recursive $ref cycles.
  function schemaTree(s, depth, seen) {
    if (!s || typeof s !== "object" || depth > MAX_DEPTH) return null;
    if (s.$ref) {
      if (seen.indexOf(s.$ref) >= 0) return null;
      return schemaTree(deref(s), depth, seen.concat([s.$ref]));
    }
    var items = [];
    var req = Array.isArray(s.required) ? s.required : [];
    Object.keys(s.properties || {}).forEach(function (name) {
      var p = s.properties[name];
      items.push(h("li", null,
        h("code", { class: "prop" }, name), " ",
        req.indexOf(name) >= 0 ? h("span", { class: "req", title: "必填" }, "*必填") : null, " ",
        h("span", { class: "type" }, typeLabel(p)),
        facts(p),
        schemaTree(p, depth + 1, seen)));
    });
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      items.push(h("li", null, h("code", { class: "prop" }, "{任意键}"), " ",
        h("span", { class: "type" }, typeLabel(s.additionalProperties)),
        schemaTree(s.additionalProperties, depth + 1, seen)));
    }
    if (s.items && typeof s.items === "object") {
      var sub = schemaTree(s.items, depth + 1, seen);
      if (sub) items.push(h("li", null, h("span", { class: "muted" }, "数组元素: "), typeLabel(s.items), facts(s.items), sub));
    }
    ["oneOf", "anyOf", "allOf"].forEach(function (k) {
      (Array.isArray(s[k]) ? s[k] : []).forEach(function (alt, i) {
        var label = k === "allOf" ? "包含" : "可选 " + (i + 1);
        items.push(h("li", null, h("span", { class: "muted" }, label + ": "), typeLabel(alt), facts(alt),
          schemaTree(alt, depth + 1, seen)));
      });
    });
    return items.length ? h("ul", { class: "schema" }, items) : null;
  }

  function schemaBlock(s) {
    if (!s) return h("p", { class: "muted" }, "（无结构说明）");
    return h("div", { class: "schema-block" }, h("div", null, h("span", { class: "type" }, typeLabel(s)), facts(s)),
      schemaTree(s, 0, []));
  }

  function contentBlocks(content) {
    return Object.keys(content || {}).map(function (mt) {
      return h("div", null, h("div", { class: "muted" }, "媒体类型: ", h("code", null, mt)), schemaBlock(content[mt].schema));
    });
  }

  function paramTable(params) {
    if (!params.length) return null;
    return h("div", { class: "table-wrap" }, h("table", { class: "list" },
      h("thead", null, h("tr", null, ["名称", "位置", "必填", "类型", "说明"].map(function (t) { return h("th", null, t); }))),
      h("tbody", null, params.map(function (p) {
        return h("tr", null, h("td", null, h("code", null, p.name)), h("td", null, p.in),
          h("td", null, p.required ? h("span", { class: "req" }, "是") : "否"),
          h("td", null, p.schema ? [typeLabel(p.schema), facts(p.schema)] : p.content ? "见内容类型" : ""),
          h("td", null, text(p.description), p.deprecated ? [" ", h("span", { class: "badge warn" }, "已弃用")] : null));
      }))));
  }

  function operation(path, method, op, pathParams) {
    var params = {};
    pathParams.concat(op.parameters || []).map(deref).forEach(function (p) { params[p.in + ":" + p.name] = p; });
    params = Object.keys(params).map(function (k) { return params[k]; });
    var body = op.requestBody ? deref(op.requestBody) : null;
    var responses = op.responses || {};
    var id = opId(method, path, op);
    return h("section", { class: "op card", id: id },
      h("h3", null, h("span", { class: "badge method method-" + method }, method.toUpperCase()), " ",
        h("code", null, path), " ", h("a", { href: "#" + id, class: "anchor", "aria-label": "本接口链接" }, "#")),
      op.summary ? h("p", null, h("strong", null, op.summary)) : null,
      op.deprecated ? h("p", null, h("span", { class: "badge warn" }, "已弃用")) : null,
      op.description ? h("p", { class: "desc" }, op.description) : null,
      op.operationId ? h("p", { class: "muted" }, "operationId: ", h("code", null, op.operationId)) : null,
      params.length ? [h("h4", null, "参数"), paramTable(params)] : null,
      body ? [h("h4", null, "请求体", body.required ? h("span", { class: "req" }, " *必填") : null),
        body.description ? h("p", { class: "desc" }, body.description) : null, contentBlocks(body.content)] : null,
      h("h4", null, "响应"),
      Object.keys(responses).map(function (status) {
        var r = deref(responses[status]);
        var cls = /^2/.test(status) ? "badge ok" : /^[45]/.test(status) ? "badge warn" : "badge";
        return h("div", { class: "response" }, h("p", null, h("span", { class: cls }, status), " ", text(r.description)),
          contentBlocks(r.content));
      }));
  }

  function render(doc) {
    spec = doc;
    var root = document.getElementById("docs");
    root.textContent = "";
    var info = doc.info || {};
    document.title = (info.title || "一窗") + " API 文档";
    append(root, [h("h1", null, text(info.title || "一窗 API 文档")),
      h("p", { class: "muted" }, "版本 ", h("code", null, text(info.version)), " · OpenAPI ", text(doc.openapi)),
      info.description ? h("p", { class: "desc" }, info.description) : null]);

    var groups = {}, order = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path] || {};
      METHODS.forEach(function (m) {
        if (!item[m]) return;
        var tags = item[m].tags && item[m].tags.length ? item[m].tags : ["其他"];
        tags.forEach(function (t) {
          if (!groups[t]) { groups[t] = []; if (order.indexOf(t) < 0) order.push(t); }
          groups[t].push({ path: path, method: m, op: item[m], pp: item.parameters || [] });
        });
      });
    });
    order = order.filter(function (t) { return groups[t]; });
    var tagInfo = {};
    (doc.tags || []).forEach(function (t) { tagInfo[t.name] = t; });

    append(root, h("nav", { class: "card toc", "aria-label": "目录" }, h("h2", null, "目录"),
      h("ul", null, order.map(function (t) {
        return h("li", null, h("a", { href: "#tag-" + slug(t) }, t), h("ul", null, groups[t].map(function (e) {
          return h("li", null, h("a", { href: "#" + opId(e.method, e.path, e.op) },
            e.method.toUpperCase() + " " + e.path), e.op.summary ? " — " + e.op.summary : "");
        })));
      }))));

    order.forEach(function (t) {
      append(root, h("section", { class: "tag", id: "tag-" + slug(t) }, h("h2", null, t),
        tagInfo[t] && tagInfo[t].description ? h("p", { class: "desc" }, tagInfo[t].description) : null,
        groups[t].map(function (e) { return operation(e.path, e.method, e.op, e.pp); })));
    });

    var schemas = (doc.components && doc.components.schemas) || {};
    var names = Object.keys(schemas).sort();
    if (names.length) {
      append(root, h("section", { id: "schemas" }, h("h2", null, "数据模型"), names.map(function (n) {
        return h("div", { class: "card", id: schemaAnchor(n) }, h("h3", null, h("code", null, n)),
          schemaBlock(schemas[n]));
      })));
    }
    if (location.hash) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  }

  function fail(err) {
    var status = document.getElementById("docs-status");
    status.className = "flash error";
    status.textContent = "无法加载 API 文档（" + SPEC_URL + "）：" + (err && err.message ? err.message : String(err));
  }

  function start() {
    fetch(SPEC_URL, { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(render)
      .catch(fail);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
