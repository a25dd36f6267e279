// Draws the OpenShift console's create form of every kind a bundle owns, in headless Chromium (Debian's, driven by
// playwright-core), and records what the form submits:
//
//   node draw.mjs --bundle DIR --out DIR [--fill JSON] [--namespace NS] [--chromium PATH]
//
// For every alm-example: the example loaded into its kind's form and submitted unchanged (results.examples).
// For every owned kind: the form started from the kind's first alm-example, as the console does, with the fields of
// --fill ({"<Kind>": {"<path>": "<text>"}}, paths like metadata.name or spec.storage.size) typed in, then a
// screenshot (<Kind>.png) and the submitted object (results.filled). Submitted objects are pruned as the console
// prunes them and given the namespace. Writes <out>/results.json; exits non-zero when the page fails.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import yaml from 'js-yaml';
import { chromium } from 'playwright-core';
import { formSchema, uiSchema, exampleFor, prune } from './src/console-rules.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    bundle: { type: 'string' },
    out: { type: 'string' },
    fill: { type: 'string', default: '{}' },
    namespace: { type: 'string', default: 'default' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
  },
});
if (!args.bundle || !args.out) {
  console.error('usage: node draw.mjs --bundle DIR --out DIR [--fill JSON] [--namespace NS]');
  process.exit(2);
}
const out = resolve(args.out);
mkdirSync(out, { recursive: true });
const fills = JSON.parse(args.fill);

// The bundle: its CSV and the CRDs it owns.
const manifests = join(args.bundle, 'manifests');
const documents = readdirSync(manifests)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => yaml.load(readFileSync(join(manifests, f), 'utf8')));
const csv = documents.find((d) => d?.kind === 'ClusterServiceVersion');
if (!csv) throw new Error(`no ClusterServiceVersion in ${manifests}`);
const crds = documents.filter((d) => d?.kind === 'CustomResourceDefinition');

// The page, bundled once.
await esbuild.build({
  entryPoints: [join(here, 'src/page.jsx')],
  bundle: true,
  minify: true,
  format: 'iife',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  outfile: join(out, 'page.js'),
  logLevel: 'warning',
});
writeFileSync(
  join(out, 'form.html'),
  `<!doctype html><html><head><meta charset="utf-8"><title>Create</title>
<link rel="stylesheet" href="${pathToFileURL(join(here, 'src/console.css'))}"></head>
<body><div id="root"></div><script src="page.js"></script></body></html>`,
);
writeFileSync(join(out, 'blank.html'), '<!doctype html><html><body></body></html>');

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const results = { examples: [], filled: [], forms: [], warnings: [], pageErrors: [] };

async function openForm(owned, formData) {
  const crd = crds.find((c) => c.spec.names.kind === owned.kind && c.spec.group === owned.name.split('.').slice(1).join('.'));
  if (!crd) throw new Error(`the bundle has no CRD for owned kind ${owned.kind}`);
  const schema = formSchema(crd, owned.version);
  const ui = uiSchema(schema, owned, results.warnings);
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => results.pageErrors.push(`${owned.kind}: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && results.pageErrors.push(`${owned.kind}: console: ${m.text()}`));
  await page.addInitScript((input) => {
    window.__FORM_INPUT__ = input;
  }, { schema, uiSchema: ui, formData, displayName: owned.displayName, namespace: args.namespace });
  await page.goto(pathToFileURL(join(out, 'form.html')).href);
  try {
    await page.waitForSelector('button[data-test=create-dynamic-form]', { timeout: 20000 });
  } catch (e) {
    throw new Error(`the ${owned.kind} form did not render: ${results.pageErrors.join('; ') || e.message}`);
  }
  return page;
}

// The fields react-jsonschema-form could not draw (it shows "Unsupported field schema" for a schema without a type).
async function unsupportedFields(page) {
  return page.$$eval('.unsupported-field', (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim().slice(0, 200)));
}

async function submit(page, sample) {
  await page.click('button[data-test=create-dynamic-form]');
  await page.waitForFunction(() => window.__SUBMITTED__ !== undefined, null, { timeout: 10000 });
  const submitted = await page.evaluate(() => window.__SUBMITTED__);
  const object = prune(submitted, sample);
  object.metadata = { ...(object.metadata ?? {}), namespace: args.namespace };
  return object;
}

const owned = csv.spec.customresourcedefinitions?.owned ?? [];
const examples = JSON.parse(csv.metadata.annotations?.['alm-examples'] ?? '[]');

for (const example of examples) {
  const api = owned.find((o) => o.kind === example.kind && `${o.name.split('.').slice(1).join('.')}/${o.version}` === example.apiVersion);
  if (!api) throw new Error(`alm-example ${example.metadata?.name} is of a kind the CSV does not own: ${example.kind}`);
  const page = await openForm(api, example);
  const unsupported = await unsupportedFields(page);
  results.examples.push({ name: example.metadata?.name, kind: example.kind, example, unsupported, submitted: await submit(page, example) });
  await page.close();
}

for (const api of owned) {
  const sample = exampleFor(csv, api.kind, `${api.name.split('.').slice(1).join('.')}/${api.version}`) ?? {
    apiVersion: `${api.name.split('.').slice(1).join('.')}/${api.version}`,
    kind: api.kind,
  };
  const page = await openForm(api, sample);
  for (const [path, text] of Object.entries(fills[api.kind] ?? {})) {
    const id = `#root_${path.replaceAll('.', '_')}`;
    await page.fill(id, String(text));
  }
  // What the form draws: the labels of the fields a user sees without opening anything.
  const labels = await page.$$eval('label.control-label', (ls) => ls.filter((l) => l.offsetParent !== null).map((l) => l.textContent.trim()));
  const inputs = await page.$$eval('input, select', (els) => els.filter((e) => e.offsetParent !== null).length);
  const shot = join(out, `${api.kind}.png`);
  await page.screenshot({ path: shot });
  results.forms.push({ kind: api.kind, labels, inputs, unsupported: await unsupportedFields(page), screenshot: shot });
  results.filled.push({ kind: api.kind, submitted: await submit(page, sample) });
  await page.close();
}

const blank = await browser.newPage({ viewport: { width: 1100, height: 1400 }, deviceScaleFactor: 1 });
await blank.goto(pathToFileURL(join(out, 'blank.html')).href);
await blank.screenshot({ path: join(out, 'blank.png') });
results.blankScreenshot = join(out, 'blank.png');
await browser.close();

writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2));
console.error(
  `[console-form] ${results.examples.length} alm-example(s) submitted, ${results.forms.length} form(s) drawn into ${out}` +
    (results.pageErrors.length ? `; page errors: ${results.pageErrors.join('; ')}` : ''),
);
process.exit(results.pageErrors.length ? 1 : 0);
