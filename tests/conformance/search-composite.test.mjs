// Composite search parameters, terminology modifiers (:in/:not-in over stored ValueSets,
// :above/:below over stored CodeSystems), strict/lenient handling, self links, the
// CapabilityStatement's search documentation, and reindexing ($reindex and `carechart reindex`),
// through the real fhir-kit-client where it fits; each with failure cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { backendArgs, binaryPath, startServer } from './server.mjs';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CS = 'http://example.org/fhir/CodeSystem/body-sites';
const VS_LIST = 'http://example.org/fhir/ValueSet/bp-codes';
const VS_TREE = 'http://example.org/fhir/ValueSet/legs-but-not-feet';
const VS_EXP = 'http://example.org/fhir/ValueSet/expanded';
const VS_SYS = 'http://example.org/fhir/ValueSet/all-loinc';

let server;
let client;
const R = {}; // key -> id
const key = {}; // "Type/id" -> key

async function make(k, resource) {
  const created = await server.create(resource);
  R[k] = created.id;
  key[`${resource.resourceType}/${created.id}`] = k;
  return created.id;
}

function keysOf(bundle, mode = 'match') {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => key[`${e.resource.resourceType}/${e.resource.id}`] ?? `?${e.resource.id}`)
    .sort();
}

async function expectKeys(resourceType, searchParams, expected) {
  const b = await client.search({ resourceType, searchParams });
  const what = `${resourceType}?${new URLSearchParams(searchParams)}`;
  assert.deepEqual(keysOf(b), [...expected].sort(), what);
  assert.equal(b.total, expected.length, `${what}: total`);
  return b;
}

async function expectError(path, status, mention) {
  const res = await server.get(path);
  assert.equal(res.status, status, `${path}: ${res.text.slice(0, 400)}`);
  assert.equal(res.json?.resourceType, 'OperationOutcome', path);
  if (mention) assert.ok(res.text.includes(mention), `${path}: OperationOutcome should name '${mention}': ${res.text}`);
  return res.json;
}

const bp = (sys, dia, date, extra = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9' }] },
  effectiveDateTime: date,
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
  ],
  ...extra,
});

const obs = (code, value, extra = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  ...value,
  ...extra,
});

const site = (code) => ({ resourceType: 'Condition', subject: { reference: `Patient/${R.pat}` }, code: { text: code }, bodySite: [{ coding: [{ system: CS, code }] }] });

before(async () => {
  server = await startServer();
  client = server.client();
  await make('pat', { resourceType: 'Patient', name: [{ family: 'Composite' }] });
  await make('bp1', bp(150, 85, '2024-01-10'));
  await make('bp2', bp(110, 95, '2024-03-05'));
  await make('gluc', obs('2339-0', { valueQuantity: { value: 7.2, unit: 'mmol/L', system: UCUM, code: 'mmol/L' } }, { effectiveDateTime: '2024-02-01' }));
  await make('dob', obs('21112-8', { valueDateTime: '2023-06' }));
  await make('smoke', obs('72166-2', { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '8517006' }] } }));
  await make('note', obs('8251-1', { valueString: 'Feels Better today' }));
  // A code system with a hierarchy (concept nesting), value sets over it and over LOINC.
  await server.create({
    resourceType: 'CodeSystem', url: CS, status: 'active', content: 'complete',
    concept: [
      { code: 'body', concept: [
        { code: 'leg', concept: [{ code: 'knee' }, { code: 'foot', concept: [{ code: 'toe' }] }] },
        { code: 'arm', concept: [{ code: 'hand' }] },
      ] },
    ],
  });
  await server.create({ resourceType: 'ValueSet', url: VS_LIST, status: 'active', compose: { include: [{ system: LOINC, concept: [{ code: '8480-6' }, { code: '85354-9' }, { code: '2339-0' }] }] } });
  await server.create({
    resourceType: 'ValueSet', url: VS_TREE, status: 'active',
    compose: {
      include: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'leg' }] }],
      exclude: [{ system: CS, filter: [{ property: 'concept', op: 'is-a', value: 'foot' }] }],
    },
  });
  await server.create({ resourceType: 'ValueSet', url: VS_EXP, status: 'active', expansion: { timestamp: '2024-01-01', contains: [{ system: LOINC, code: '21112-8' }, { system: LOINC, code: '8251-1' }] } });
  await server.create({ resourceType: 'ValueSet', url: VS_SYS, status: 'active', compose: { include: [{ system: LOINC }] } });
  for (const code of ['leg', 'knee', 'foot', 'toe', 'hand']) await make(`c-${code}`, site(code));
});

after(async () => {
  await server?.stop();
  await server?.cleanup();
});

describe('composite parameters', () => {
  test('component-code-value-quantity pairs a code with its own value (prefixes per component)', async () => {
    await expectKeys('Observation', { 'component-code-value-quantity': `${LOINC}|8480-6$gt140` }, ['bp1']);
    await expectKeys('Observation', { 'component-code-value-quantity': '8462-4$gt90' }, ['bp2']);
    // 8480-6 with 95 exists only as the diastolic of bp2: no cross-component match.
    await expectKeys('Observation', { 'component-code-value-quantity': '8480-6$95' }, []);
    await expectKeys('Observation', { 'component-code-value-quantity': `8480-6$le110|${UCUM}|mm[Hg]` }, ['bp2']);
    await expectKeys('Observation', { 'component-code-value-quantity': `8480-6$le110|${UCUM}|kg` }, []);
    // OR within a parameter, AND across repeats.
    await expectKeys('Observation', { 'component-code-value-quantity': '8480-6$gt140,8462-4$gt90' }, ['bp1', 'bp2']);
    const both = (await server.get('Observation?component-code-value-quantity=8480-6$gt100&component-code-value-quantity=8462-4$lt90')).json;
    assert.deepEqual(keysOf(both), ['bp1']);
  });

  test('code-value-quantity, -date, -concept, -string and combo', async () => {
    await expectKeys('Observation', { 'code-value-quantity': `${LOINC}|2339-0$ge7` }, ['gluc']);
    await expectKeys('Observation', { 'code-value-quantity': `${LOINC}|2339-0$lt7` }, []);
    await expectKeys('Observation', { 'code-value-date': '21112-8$2023-06' }, ['dob']);
    await expectKeys('Observation', { 'code-value-date': '21112-8$gt2023-12' }, []);
    await expectKeys('Observation', { 'code-value-concept': `72166-2$http://snomed.info/sct|8517006` }, ['smoke']);
    await expectKeys('Observation', { 'code-value-string': '8251-1$feels' }, ['note']);
    await expectKeys('Observation', { 'code-value-string': '8251-1$better' }, []);
    await expectKeys('Observation', { 'combo-code-value-quantity': '8480-6$gt140,2339-0$gt7' }, ['bp1', 'gluc']);
    await expectKeys('Observation', { 'component-code-value-quantity:missing': 'false' }, ['bp1', 'bp2']);
    // Combined with other parameters and chained from another type.
    await expectKeys('Observation', { 'component-code-value-quantity': '8480-6$gt100', date: 'ge2024-02' }, ['bp2']);
  });

  test('malformed composite values are 400s naming the parameter', async () => {
    await expectError('Observation?code-value-quantity=8480-6', 400, "2 components separated by '$'");
    await expectError('Observation?code-value-quantity=8480-6$abc', 400, 'code-value-quantity');
    await expectError('Observation?code-value-date=x$2023-13', 400, '2023-13');
    await expectError('Observation?code-value-quantity:exact=x$1', 400, ':exact');
    await expectError('Observation?code-value-quantity=a$1$2', 400, 'not 3');
  });
});

describe('terminology modifiers', () => {
  test(':in and :not-in expand stored ValueSets (compose, expansion, whole system)', async () => {
    await expectKeys('Observation', { 'code:in': VS_LIST }, ['bp1', 'bp2', 'gluc']);
    await expectKeys('Observation', { 'code:in': VS_EXP }, ['dob', 'note']);
    await expectKeys('Observation', { 'code:in': `${VS_LIST},${VS_EXP}` }, ['bp1', 'bp2', 'gluc', 'dob', 'note']);
    await expectKeys('Observation', { 'code:in': VS_SYS }, ['bp1', 'bp2', 'gluc', 'dob', 'smoke', 'note']);
    await expectKeys('Observation', { 'code:not-in': VS_LIST }, ['dob', 'smoke', 'note']);
    await expectKeys('Condition', { 'body-site:in': VS_TREE }, ['c-leg', 'c-knee']);
    await expectKeys('Condition', { 'body-site:not-in': VS_TREE }, ['c-foot', 'c-toe', 'c-hand']);
  });

  test(':below and :above follow a stored CodeSystem hierarchy', async () => {
    await expectKeys('Condition', { 'body-site:below': `${CS}|leg` }, ['c-leg', 'c-knee', 'c-foot', 'c-toe']);
    await expectKeys('Condition', { 'body-site:below': `${CS}|foot` }, ['c-foot', 'c-toe']);
    await expectKeys('Condition', { 'body-site:above': `${CS}|toe` }, ['c-leg', 'c-foot', 'c-toe']);
    await expectKeys('Condition', { 'body-site:above': `${CS}|hand` }, ['c-hand']);
  });

  test('unknown ValueSets, unknown hierarchies and bad values are 400s', async () => {
    await expectError('Observation?code:in=http://nowhere.example/ValueSet/x', 400, 'http://nowhere.example/ValueSet/x');
    await expectError(`Observation?code:below=${LOINC}|8480-6`, 400, 'no code hierarchy is known');
    await expectError(`Condition?body-site:below=${CS}|elbow`, 400, 'elbow');
    await expectError('Condition?body-site:below=leg', 400, 'system|code');
    await expectError('Observation?value-quantity:in=http://x', 400, ':in');
  });
});

describe('strictness, self link, CapabilityStatement', () => {
  test('strict handling rejects unknown and unsupported parameters naming them', async () => {
    await expectError('Observation?frobnicate=1', 400, 'frobnicate');
    await expectError('Observation?_text=fever', 400, '_text');
    await expectError('Observation?_content=fever', 400, '_content');
    await expectError('Location?near=42.25|-83.69|10|km', 400, 'near');
    await expectError('Observation?code-value-quantity=1', 400, 'code-value-quantity');
  });

  test('lenient handling ignores them, reports them, and leaves them out of the self link', async () => {
    const res = await server.get('Observation?code-value-quantity=2339-0$gt7&frobnicate=1&_text=x&_count=5', {
      headers: { prefer: 'handling=lenient' },
    });
    assert.equal(res.status, 200, res.text);
    const b = res.json;
    assert.deepEqual(keysOf(b), ['gluc']);
    const outcome = b.entry.find((e) => e.search?.mode === 'outcome');
    assert.ok(outcome, 'an OperationOutcome entry with search mode outcome');
    assert.equal(outcome.resource.resourceType, 'OperationOutcome');
    const text = JSON.stringify(outcome.resource);
    assert.ok(text.includes('frobnicate') && text.includes('_text'), text);
    const self = b.link.find((l) => l.relation === 'self').url;
    const used = [...new URL(self).searchParams.keys()];
    assert.ok(used.includes('code-value-quantity'), self);
    assert.ok(!used.includes('frobnicate') && !used.includes('_text'), self);
    assert.equal(new URL(self).searchParams.get('code-value-quantity'), '2339-0$gt7');
  });

  test('the CapabilityStatement documents every searchable parameter, modifiers and includes', async () => {
    const cs = (await server.get('metadata')).json;
    const rest = cs.rest[0];
    assert.match(rest.documentation, /_text/);
    assert.match(rest.documentation, /near/);
    assert.ok(rest.searchParam.some((p) => p.name === '_lastUpdated'));
    const observation = rest.resource.find((r) => r.type === 'Observation');
    const byName = Object.fromEntries(observation.searchParam.map((p) => [p.name, p]));
    for (const name of ['code', 'value-quantity', 'code-value-quantity', 'component-code-value-quantity', 'combo-code-value-concept', 'code-value-date', 'subject', '_id']) {
      assert.ok(byName[name], `Observation.${name} listed`);
      assert.ok(byName[name].type && byName[name].documentation, `Observation.${name} has type and documentation`);
    }
    assert.equal(byName['code-value-quantity'].type, 'composite');
    assert.match(byName['code-value-quantity'].documentation, /token\$quantity/);
    assert.match(byName.code.documentation, /:in/);
    assert.match(byName['value-quantity'].documentation, /\bap\b/);
    assert.ok(!byName._text && !byName._content, '_text/_content are not listed as supported');
    assert.ok(observation.searchInclude.includes('Observation:subject'));
    assert.ok(observation.searchRevInclude.length > 0);
    const location = rest.resource.find((r) => r.type === 'Location');
    assert.ok(!location.searchParam.some((p) => p.name === 'near'));
  });
});

describe('SearchParameter resources', () => {
  const EYE = 'http://example.org/fhir/StructureDefinition/eye-colour';
  const eyeParam = {
    resourceType: 'SearchParameter',
    url: 'http://example.org/fhir/SearchParameter/patient-eye-colour',
    name: 'EyeColour',
    status: 'active',
    description: 'Eye colour (an extension)',
    code: 'eye-colour',
    base: ['Patient'],
    type: 'token',
    expression: `Patient.extension.where(url='${EYE}').value`,
  };
  const eyed = (colour) => ({ resourceType: 'Patient', name: [{ family: `Eyes-${colour}` }], extension: [{ url: EYE, valueCode: colour }] });

  test('an active SearchParameter is live for new writes; $reindex covers older ones', async () => {
    await make('eye-old', eyed('green'));
    await expectError('Patient?eye-colour=green', 400, 'eye-colour');
    const created = await server.create(eyeParam);
    await make('eye-new', eyed('brown'));
    await expectKeys('Patient', { 'eye-colour': 'brown' }, ['eye-new']);
    await expectKeys('Patient', { 'eye-colour': 'green' }, []); // written before the parameter
    const started = await server.post('$reindex?type=Patient&param=eye-colour', undefined);
    assert.equal(started.status, 202, started.text);
    for (let i = 0; i < 100; i++) {
      const report = (await server.get('$reindex')).json;
      if (report.parameter.find((p) => p.name === 'status').valueCode !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await expectKeys('Patient', { 'eye-colour': 'green' }, ['eye-old']);
    await expectKeys('Patient', { 'eye-colour:not': 'green', name: 'Eyes' }, ['eye-new']);
    // Retired: no longer a parameter.
    const retired = await server.put(`SearchParameter/${created.id}`, { ...eyeParam, id: created.id, status: 'retired' });
    assert.equal(retired.status, 200, retired.text);
    await expectError('Patient?eye-colour=green', 400, 'eye-colour');
    const back = await server.put(`SearchParameter/${created.id}`, { ...eyeParam, id: created.id });
    assert.equal(back.status, 200, back.text);
    await expectKeys('Patient', { 'eye-colour': 'brown' }, ['eye-new']);
    const deleted = await server.request('DELETE', `SearchParameter/${created.id}`);
    assert.ok(deleted.status === 200 || deleted.status === 204, deleted.text);
    await expectError('Patient?eye-colour=brown', 400, 'eye-colour');
  });

  test('an unusable active SearchParameter is rejected naming the element', async () => {
    const badExpr = await server.post('SearchParameter', { ...eyeParam, code: 'bad-one', expression: 'Patient.extension.where(' });
    assert.equal(badExpr.status, 400, badExpr.text);
    assert.match(badExpr.text, /SearchParameter\.expression/);
    const badType = await server.post('SearchParameter', { ...eyeParam, code: 'bad-two', type: 'special' });
    assert.equal(badType.status, 400, badType.text);
    assert.match(badType.text, /SearchParameter\.type/);
    // A draft is stored but not searchable.
    const draft = await server.post('SearchParameter', { ...eyeParam, code: 'drafty', status: 'draft' });
    assert.equal(draft.status, 201, draft.text);
    await expectError('Patient?drafty=x', 400, 'drafty');
  });
});

describe('reindex', () => {
  test('POST $reindex runs in the background while searches go on; GET reports it', async () => {
    const bad = await server.post('$reindex?type=Frob', undefined);
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /Frob/);
    const badParam = await server.post('$reindex?type=Observation&param=nope', undefined);
    assert.equal(badParam.status, 400, badParam.text);
    const started = await server.post('$reindex?type=Observation', undefined);
    assert.equal(started.status, 202, started.text);
    // Searches keep working meanwhile.
    await expectKeys('Observation', { 'component-code-value-quantity': '8480-6$gt140' }, ['bp1']);
    let report;
    for (let i = 0; i < 100; i++) {
      report = (await server.get('$reindex')).json;
      const status = report.parameter.find((p) => p.name === 'status').valueCode;
      if (status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const get = (n) => report.parameter.find((p) => p.name === n);
    assert.equal(get('status').valueCode, 'done', JSON.stringify(report));
    assert.equal(get('done').valueInteger, 6);
    assert.equal(get('reindexed').valueInteger, 6);
    assert.equal(get('rewritten').valueInteger, 0); // written indexed: every row compared equal
    await expectKeys('Observation', { 'component-code-value-quantity': '8480-6$gt140' }, ['bp1']);
    const wrongMethod = await server.request('DELETE', '$reindex');
    assert.equal(wrongMethod.status, 405);
    // A token that may only read Patients may not rewrite indexes.
    const reader = await server.tokenFor('system/Patient.rs');
    const denied = await server.request('POST', '$reindex?type=Patient', { token: reader });
    assert.equal(denied.status, 403, denied.text);
    assert.match(denied.text, /reindex/); // by the scope gate or by $reindex itself
  });

  test('carechart reindex --db re-extracts a stopped server\'s database with a summary line', async () => {
    const other = await startServer();
    try {
      await other.create(bp(160, 70, '2024-05-01'));
      await other.stop();
      const bin = binaryPath();
      const help = spawnSync(bin, ['reindex', '--help'], { encoding: 'utf8' });
      assert.equal(help.status, 0);
      assert.match(help.stdout, /--param/);
      const run = spawnSync(bin, backendArgs(['reindex', '--db', other.db, '--type', 'Observation', '--param', 'component-code-value-quantity']), { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /reindexed 1 of 1 resources of type Observation, parameter component-code-value-quantity in [\d.]+ s \(\d+ resources\/s\)/);
      const all = spawnSync(bin, backendArgs(['reindex', '--db', other.db]), { encoding: 'utf8' });
      assert.equal(all.status, 0, all.stderr);
      assert.match(all.stdout, /reindexed \d+ of \d+ resources/);
      const bad = spawnSync(bin, backendArgs(['reindex', '--db', other.db, '--type', 'Observation', '--param', 'nope']), { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /nope/);
      const missing = spawnSync(bin, ['reindex', '--db', `${other.db}.absent`], { encoding: 'utf8' });
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /no such database/);
    } finally {
      await other.cleanup();
    }
  });
});
