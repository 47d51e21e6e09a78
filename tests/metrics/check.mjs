// Checks a Prometheus text-format (0.0.4) body, such as Capstan's GET /metrics, with code
// nobody here wrote, plus the grammar rules that code does not enforce:
//
//  1. parse-prometheus-text-format (npm, a port of Prometheus' own Go text parser) must parse
//     it; its result is what --json-out writes, so tests read values through it;
//  2. prom-client, the Node Prometheus client, is made to expose the same families (same
//     names, HELP, TYPE, labels, buckets, values) and its text must equal ours line for
//     line: HELP/TYPE lines, label quoting and escaping, _bucket/_sum/_count, le="+Inf";
//  3. line grammar and family rules of the format, which the lenient parser lets through:
//     names, label names, the three escapes, float values, TYPE before samples, no family
//     split or repeated, cumulative buckets ending in +Inf equal to _count.
//
// Usage: node check.mjs [URL | -] [--json-out FILE] [--expect-capstan] [--self-test]
//   URL: fetched (its Content-Type checked too); "-" or nothing: stdin.
//   --expect-capstan: every family Capstan exposes must be there, with its type and labels.
//   --self-test: the checks must accept prom-client's own output and refuse broken bodies.
// Prints failures, then `metrics: N passed, M failed`; exits 1 when M > 0.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import client from 'prom-client';

const require = createRequire(import.meta.url);
const parsePrometheusTextFormat = require('parse-prometheus-text-format');

const EXPECTED = {  // Capstan's families: type and label names (le aside)
    capstan_connections: ['gauge', ['route']],
    capstan_connections_total: ['counter', ['route']],
    capstan_messages_received_total: ['counter', ['route']],
    capstan_messages_sent_total: ['counter', ['route']],
    capstan_bytes_received_total: ['counter', ['route']],
    capstan_bytes_sent_total: ['counter', ['route']],
    capstan_sockets: ['gauge', []],
    capstan_closes_total: ['counter', ['code']],
    capstan_handshake_failures_total: ['counter', ['reason']],
    capstan_auth_failures_total: ['counter', ['reason']],
    capstan_limit_hits_total: ['counter', ['kind']],
    capstan_send_buffer_overflows_total: ['counter', []],
    capstan_handshake_duration_seconds: ['histogram', []],
    capstan_start_time_seconds: ['gauge', []],
    capstan_uptime_seconds: ['gauge', []],
};

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;
// name, optional {labels}, value, optional timestamp; label values allow only \\ \" \n escapes
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${LABEL}(?:,${LABEL})*,?)?\})? (\S+)(?: (-?\d+))?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

const toNumber = (text) => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));

function unescapeLabel(text) {
    return text.replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
}

function parseLabels(braces) {  // '{a="x",b="y"}' -> [['a','x'], ['b','y']]
    const labels = [];
    if (!braces) return labels;
    const re = new RegExp(String.raw`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"`, 'g');
    for (const m of braces.matchAll(re)) labels.push([m[1], unescapeLabel(m[2])]);
    return labels;
}

// The format's rules, line by line and family by family. Returns a list of problems.
function grammarProblems(text) {
    const problems = [];
    if (text.length && !text.endsWith('\n')) problems.push('the body does not end with a newline');
    if (text.includes('\r')) problems.push('CR in the body (the format is LF-only)');
    const families = new Map();  // name -> {type, help, samples: [{name, labels, value}]}
    const finished = new Set();
    let current = null;
    const family = (name) => {
        if (!families.has(name)) families.set(name, { type: null, help: null, samples: [] });
        return families.get(name);
    };
    const enter = (name, lineNo) => {
        if (current === name) return;
        if (finished.has(name)) problems.push(`line ${lineNo}: family ${name} appears again after another family`);
        if (current) finished.add(current);
        current = name;
    };
    // A sample belongs to the family whose TYPE line makes its name (histogram suffixes).
    const familyOf = (name) => {
        for (const suffix of ['_bucket', '_sum', '_count']) {
            const base = name.slice(0, -suffix.length);
            if (name.endsWith(suffix) && families.get(base)?.type === 'histogram') return base;
        }
        return name;
    };
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((line, i) => {
        const lineNo = i + 1;
        if (line === '') return;
        if (line.startsWith('#')) {
            const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
            if (!m) return;  // a plain comment
            const [, kind, name, rest = ''] = m;
            if (!NAME.test(name)) problems.push(`line ${lineNo}: bad metric name ${JSON.stringify(name)}`);
            enter(name, lineNo);
            const f = family(name);
            if (kind === 'HELP') {
                if (f.help !== null) problems.push(`line ${lineNo}: second HELP for ${name}`);
                if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) problems.push(`line ${lineNo}: bad escape in HELP`);
                f.help = rest;
            } else {
                if (f.type !== null) problems.push(`line ${lineNo}: second TYPE for ${name}`);
                if (f.samples.length) problems.push(`line ${lineNo}: TYPE for ${name} after its samples`);
                if (!TYPES.has(rest)) problems.push(`line ${lineNo}: unknown type ${JSON.stringify(rest)}`);
                f.type = rest;
            }
            return;
        }
        const m = SAMPLE.exec(line);
        if (!m) {
            problems.push(`line ${lineNo}: not a valid sample line: ${JSON.stringify(line)}`);
            return;
        }
        const [, name, braces, value] = m;
        if (!FLOAT.test(value)) problems.push(`line ${lineNo}: value ${JSON.stringify(value)} is no float`);
        const labels = parseLabels(braces);
        const names = labels.map(([n]) => n);
        if (new Set(names).size !== names.length) problems.push(`line ${lineNo}: a label name repeats`);
        if (names.some((n) => n.startsWith('__'))) problems.push(`line ${lineNo}: reserved label name`);
        const base = familyOf(name);
        enter(base, lineNo);
        family(base).samples.push({ name, labels, value, lineNo });
    });
    for (const [name, f] of families) {
        if (f.help === null) problems.push(`${name}: no HELP line`);
        if (f.type === null) problems.push(`${name}: no TYPE line`);
        const seen = new Set();
        for (const s of f.samples) {
            const key = s.name + JSON.stringify(s.labels);
            if (seen.has(key)) problems.push(`line ${s.lineNo}: duplicate series ${key}`);
            seen.add(key);
            if (f.type === 'counter' && !(toNumber(s.value) >= 0)) problems.push(`line ${s.lineNo}: counter below 0 or NaN`);
        }
        if (f.type === 'histogram') problems.push(...histogramProblems(name, f.samples));
    }
    return { problems, families };
}

function histogramProblems(name, samples) {
    const problems = [];
    const series = new Map();  // other labels -> {buckets: [[le, n]], sum, count}
    for (const s of samples) {
        const le = s.labels.find(([n]) => n === 'le');
        const rest = JSON.stringify(s.labels.filter(([n]) => n !== 'le'));
        if (!series.has(rest)) series.set(rest, { buckets: [], sum: null, count: null });
        const h = series.get(rest);
        if (s.name === `${name}_bucket`) {
            if (!le) problems.push(`line ${s.lineNo}: bucket without le`);
            else h.buckets.push([le[1], toNumber(s.value)]);
        } else if (s.name === `${name}_sum`) h.sum = toNumber(s.value);
        else if (s.name === `${name}_count`) h.count = toNumber(s.value);
        else problems.push(`line ${s.lineNo}: ${s.name} in histogram ${name}`);
        if (le && s.name !== `${name}_bucket`) problems.push(`line ${s.lineNo}: le on a non-bucket sample`);
    }
    for (const [labels, h] of series) {
        const where = `${name}${labels === '[]' ? '' : labels}`;
        if (h.sum === null || h.count === null) problems.push(`${where}: _sum or _count missing`);
        if (!h.buckets.length || h.buckets.at(-1)[0] !== '+Inf') problems.push(`${where}: last bucket is not le="+Inf"`);
        for (let i = 1; i < h.buckets.length; ++i) {
            if (!(toNumber(h.buckets[i][0]) > toNumber(h.buckets[i - 1][0]))) problems.push(`${where}: le not increasing`);
            if (!(h.buckets[i][1] >= h.buckets[i - 1][1])) problems.push(`${where}: buckets not cumulative`);
        }
        if (h.buckets.length && h.count !== null && h.buckets.at(-1)[1] !== h.count)
            problems.push(`${where}: le="+Inf" bucket ${h.buckets.at(-1)[1]} != _count ${h.count}`);
    }
    return problems;
}

// prom-client exposing the same family; its text is the reference for ours.
async function referenceText(name, f) {
    const registry = new client.Registry();
    const help = f.help.replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
    const labelNames = [...new Set(f.samples.flatMap((s) => s.labels.map(([n]) => n)).filter((n) => n !== 'le'))];
    // A family without samples has labels (a labelless one always has its sample): a label
    // makes prom-client write none either.
    if (!f.samples.length) labelNames.push('label');
    const labelsOf = (s) => Object.fromEntries(s.labels.filter(([n]) => n !== 'le'));
    if (f.type === 'counter' || f.type === 'gauge') {
        const metric = f.type === 'counter'
            ? new client.Counter({ name, help, labelNames, registers: [registry] })
            : new client.Gauge({ name, help, labelNames, registers: [registry] });
        for (const s of f.samples) {
            const labels = labelsOf(s);
            const v = toNumber(s.value);
            if (f.type === 'counter') labelNames.length ? metric.inc(labels, v) : metric.inc(v);
            else labelNames.length ? metric.set(labels, v) : metric.set(v);
        }
    } else if (f.type === 'histogram') {
        const les = [...new Set(f.samples.filter((s) => s.name === `${name}_bucket`)
            .map((s) => s.labels.find(([n]) => n === 'le')[1]))].filter((le) => le !== '+Inf');
        const buckets = les.map(Number);
        const metric = new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });
        // Observations that land in the same buckets: n at each bound, the rest above the last.
        const bySeries = new Map();
        for (const s of f.samples.filter((x) => x.name === `${name}_bucket`)) {
            const key = JSON.stringify(labelsOf(s));
            if (!bySeries.has(key)) bySeries.set(key, []);
            bySeries.get(key).push(toNumber(s.value));
        }
        for (const [key, cumulative] of bySeries) {
            const labels = JSON.parse(key);
            cumulative.forEach((c, i) => {
                const n = c - (i ? cumulative[i - 1] : 0);
                const at = i < buckets.length ? buckets[i] : (buckets.at(-1) ?? 0) + 1;
                for (let k = 0; k < n; ++k) metric.observe(labels, at);
            });
        }
    } else {
        return null;
    }
    return registry.metrics();
}

function compareWithReference(ours, reference, isSum) {
    const clean = (t) => t.split('\n').filter((l) => l !== '');
    const a = clean(ours);
    const b = clean(reference);
    const problems = [];
    if (a.length !== b.length) problems.push(`${a.length} lines, prom-client writes ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); ++i) {
        if (a[i].startsWith('#') || b[i].startsWith('#')) {
            if (a[i] !== b[i]) problems.push(`ours ${JSON.stringify(a[i])} vs prom-client ${JSON.stringify(b[i])}`);
            continue;
        }
        const cut = (l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)];
        const [sa, va] = cut(a[i]);
        const [sb, vb] = cut(b[i]);
        // _sum is made of our observations' values, which the reference cannot reproduce
        const same = sa === sb && (isSum(sa) || toNumber(va) === toNumber(vb));
        if (!same) problems.push(`ours ${JSON.stringify(a[i])} vs prom-client ${JSON.stringify(b[i])}`);
    }
    return problems;
}

// All checks on one body; `record(name, problems)` counts each.
async function checkBody(text, record, { expectCapstan = false, jsonOut = null } = {}) {
    let parsed = null;
    try {
        parsed = parsePrometheusTextFormat(text);
        record('parse-prometheus-text-format parses the body', []);
    } catch (e) {
        record('parse-prometheus-text-format parses the body', [e.message]);
    }
    const { problems, families } = grammarProblems(text);
    record('line grammar and family rules', problems);
    if (parsed) {
        const names = parsed.map((f) => f.name);
        const mismatch = names.length !== families.size || names.some((n) => !families.has(n));
        record('the parser sees the same families', mismatch ? [`parser: ${names.join(' ')}`] : []);
        if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(parsed, null, 1));
    }
    for (const [name, f] of families) {
        if (f.help === null || !f.type) continue;  // already reported
        const ours = text.split('\n').filter((l) => {
            if (l.startsWith('# ')) return l.split(' ')[2] === name;
            const n = l.split(/[{ ]/)[0];
            return n === name || (f.type === 'histogram' && [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(n));
        }).join('\n');
        let problemsHere;
        try {
            const reference = await referenceText(name, f);
            problemsHere = reference === null ? [] : compareWithReference(ours, reference, (s) => s === `${name}_sum`);
        } catch (e) {
            problemsHere = [`prom-client refused the family: ${e.message}`];
        }
        record(`${name} as prom-client writes it`, problemsHere);
    }
    if (expectCapstan) {
        const missing = [];
        for (const [name, [type, labels]] of Object.entries(EXPECTED)) {
            const f = families.get(name);
            if (!f) { missing.push(`${name} missing`); continue; }
            if (f.type !== type) missing.push(`${name} is ${f.type}, expected ${type}`);
            for (const s of f.samples) {
                const got = s.labels.map(([n]) => n).filter((n) => n !== 'le');
                if (JSON.stringify(got) !== JSON.stringify(labels)) missing.push(`line ${s.lineNo}: labels ${got}, expected ${labels}`);
            }
        }
        record('every Capstan family, with its type and labels', missing);
    }
}

// The checker checked: prom-client's own output passes, broken bodies do not.
async function selfTest(record) {
    const registry = new client.Registry();
    new client.Counter({ name: 'x_total', help: 'a "counter" \\ with\nnewline', labelNames: ['route'], registers: [registry] })
        .inc({ route: '/a"b\\c\nd' }, 3);
    new client.Gauge({ name: 'g', help: 'a gauge', registers: [registry] }).set(5);
    const h = new client.Histogram({ name: 'h_seconds', help: 'a histogram', buckets: [0.001, 0.5, 1], registers: [registry] });
    h.observe(0.0002);
    h.observe(0.7);
    h.observe(3);
    new client.Counter({ name: 'empty_total', help: 'no samples yet', labelNames: ['code'], registers: [registry] });
    const good = await registry.metrics();
    let failures = [];
    await checkBody(good, (name, problems) => { if (problems.length) failures.push(`${name}: ${problems.join('; ')}`); });
    record('self-test: prom-client output passes every check', failures);

    const ok = '# HELP c_total c\n# TYPE c_total counter\nc_total{route="/x"} 1\n';
    const broken = {
        'no TYPE line': '# HELP c_total c\nc_total 1\n',
        'no HELP line': '# TYPE c_total counter\nc_total 1\n',
        'unquoted label value': '# HELP c_total c\n# TYPE c_total counter\nc_total{route=/x} 1\n',
        'unescaped quote in a label': '# HELP c_total c\n# TYPE c_total counter\nc_total{route="a"b"} 1\n',
        'unknown escape in a label': '# HELP c_total c\n# TYPE c_total counter\nc_total{route="a\\tb"} 1\n',
        'value is no number': ok.replace('} 1', '} one'),
        'bad metric name': ok.replaceAll('c_total', 'c-total'),
        'no final newline': ok.slice(0, -1),
        'family split in two': ok + '# HELP g g\n# TYPE g gauge\ng 1\nc_total{route="/y"} 1\n',
        'TYPE after samples': '# HELP c_total c\nc_total 1\n# TYPE c_total counter\n',
        'negative counter': ok.replace('} 1', '} -1'),
        'duplicate series': ok + 'c_total{route="/x"} 2\n',
        'histogram without +Inf': '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
        'histogram not cumulative': '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
        '+Inf bucket is not _count': '# HELP h h\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
        'help escaped differently from prom-client': '# HELP c_total a\\\\b\\x\n# TYPE c_total counter\nc_total 1\n',
    };
    for (const [what, body] of Object.entries(broken)) {
        failures = [];
        await checkBody(body, (name, problems) => { if (problems.length) failures.push(name); });
        record(`self-test: refuses a body with ${what}`, failures.length ? [] : ['accepted']);
    }
}

async function main() {
    const args = process.argv.slice(2);
    const flag = (name) => { const i = args.indexOf(name); if (i < 0) return false; args.splice(i, 1); return true; };
    const option = (name) => { const i = args.indexOf(name); if (i < 0) return null; const v = args[i + 1]; args.splice(i, 2); return v; };
    const jsonOut = option('--json-out');
    const expectCapstan = flag('--expect-capstan');
    const self = flag('--self-test');
    const source = args[0] ?? (self ? null : '-');

    let passed = 0;
    let failed = 0;
    const record = (name, problems) => {
        if (problems.length) {
            failed += 1;
            process.stdout.write(`  FAIL  ${name}\n${problems.slice(0, 10).map((p) => `        ${p}\n`).join('')}`);
        } else {
            passed += 1;
        }
    };
    if (self) await selfTest(record);
    if (source) {
        let text;
        if (/^https?:\/\//.test(source)) {
            const response = await fetch(source);
            const type = response.headers.get('content-type') ?? '';
            record('HTTP 200 with Content-Type text/plain; version=0.0.4',
                response.status === 200 && /^text\/plain; version=0\.0\.4(;|$)/.test(type) ? [] : [`${response.status} ${type}`]);
            text = await response.text();
        } else {
            text = fs.readFileSync(source === '-' ? 0 : source, 'utf8');
        }
        await checkBody(text, record, { expectCapstan, jsonOut });
    }
    process.stdout.write(`metrics: ${passed} passed, ${failed} failed\n`);
    process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
    process.stdout.write(`metrics: 0 passed, 1 failed (${e.stack || e})\n`);
    process.exitCode = 1;
});
