// The rules by which the OpenShift console turns a CSV's specDescriptors and a CRD's schema into the create form
// of an operand (Operators → Installed Operators → Create <kind>), written for this test from the console's
// behaviour (frontend/packages/operator-lifecycle-manager/src/components/operand in openshift/console):
//
// - the form's schema is the served version's openAPIV3Schema without `status`, under the console's defaults for
//   metadata (name, default "example", and labels);
// - the form starts from the CSV's first alm-example of the kind;
// - every spec descriptor whose path exists in the schema adds to the uiSchema: its displayName as the title, its
//   description, a widget or field chosen by its x-descriptors (only the capabilities compatible with the schema
//   type count), `advanced` fields folded under "Advanced configuration", `fieldDependency` fields shown only when
//   their control field holds the value, and a sort order by the descriptor's position;
// - properties are ordered: required with descriptors, required, optional with descriptors, control fields, rest;
// - on submit, empty values the example does not hold explicitly are pruned.

const CAP = 'urn:alm:descriptor:com.tectonic.ui:';
export const Capability = {
  podCount: `${CAP}podCount`,
  resourceRequirements: `${CAP}resourceRequirements`,
  k8sResourcePrefix: 'urn:alm:descriptor:io.kubernetes:',
  booleanSwitch: `${CAP}booleanSwitch`,
  password: `${CAP}password`,
  checkbox: `${CAP}checkbox`,
  imagePullPolicy: `${CAP}imagePullPolicy`,
  updateStrategy: `${CAP}updateStrategy`,
  text: `${CAP}text`,
  number: `${CAP}number`,
  nodeAffinity: `${CAP}nodeAffinity`,
  podAffinity: `${CAP}podAffinity`,
  podAntiAffinity: `${CAP}podAntiAffinity`,
  fieldGroup: `${CAP}fieldGroup:`,
  arrayFieldGroup: `${CAP}arrayFieldGroup:`,
  select: `${CAP}select:`,
  advanced: `${CAP}advanced`,
  fieldDependency: `${CAP}fieldDependency:`,
  hidden: `${CAP}hidden`,
  selector: `${CAP}selector:`,
  label: `${CAP}label`,
  endpointList: `${CAP}endpointList`,
  namespaceSelector: `${CAP}namespaceSelector`,
};

// Which capabilities a schema type can take (the console warns about, and ignores, the others).
const COMMON = [Capability.advanced, Capability.fieldDependency, Capability.hidden, Capability.k8sResourcePrefix];
const COMPATIBLE = {
  object: [
    ...COMMON,
    Capability.nodeAffinity,
    Capability.podAffinity,
    Capability.podAntiAffinity,
    Capability.resourceRequirements,
    Capability.selector,
    Capability.updateStrategy,
    Capability.fieldGroup,
    Capability.namespaceSelector,
  ],
  array: [...COMMON, Capability.arrayFieldGroup, Capability.endpointList],
  primitive: [
    ...COMMON,
    Capability.booleanSwitch,
    Capability.checkbox,
    Capability.imagePullPolicy,
    Capability.number,
    Capability.password,
    Capability.podCount,
    Capability.select,
    Capability.text,
    Capability.label,
    Capability.fieldGroup,
    Capability.arrayFieldGroup,
  ],
};

// The console's widgets and fields, by the names the form registers (page.jsx).
const WIDGET_OF = new Map([
  [Capability.hidden, 'hidden'],
  [Capability.imagePullPolicy, 'ImagePullPolicyWidget'],
  [Capability.booleanSwitch, 'SwitchWidget'],
  [Capability.checkbox, 'CheckboxWidget'],
  [Capability.number, 'NumberWidget'],
  [Capability.password, 'PasswordWidget'],
  [Capability.podCount, 'PodCountWidget'],
  [Capability.text, 'TextWidget'],
]);
const FIELD_OF = new Map([
  [Capability.nodeAffinity, 'NodeAffinityField'],
  [Capability.podAffinity, 'PodAffinityField'],
  [Capability.podAntiAffinity, 'PodAffinityField'],
  [Capability.resourceRequirements, 'ResourceRequirementsField'],
  [Capability.updateStrategy, 'UpdateStrategyField'],
]);

export const HIDDEN = { 'ui:widget': 'hidden', 'ui:options': { label: false } };

// The console's metadata schema, merged under the CRD's.
const K8S_DEFAULTS = {
  type: 'object',
  properties: {
    metadata: {
      type: 'object',
      properties: {
        namespace: { type: 'string' },
        name: { type: 'string', default: 'example' },
        labels: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
      },
      required: ['name'],
    },
    spec: { type: 'object' },
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
  },
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

// lodash's defaultsDeep for plain JSON: fills what `target` lacks from `source`, recursively.
function defaultsDeep(target, source) {
  for (const [key, value] of Object.entries(source)) {
    if (!(key in target)) target[key] = clone(value);
    else if (isObject(target[key]) && isObject(value)) defaultsDeep(target[key], value);
  }
  return target;
}

// "a.b[0].c" → ["a", "b", "0", "c"]
export function toPath(path) {
  return path.split(/[.[\]]+/).filter((s) => s !== '');
}

// The schema type the way react-jsonschema-form guesses it.
export function schemaType(schema) {
  if (!schema) return undefined;
  let { type } = schema;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null');
  if (type) return type;
  if (schema.const !== undefined || schema.enum) return 'string';
  if (schema.properties || schema.additionalProperties) return 'object';
  return undefined;
}

export function schemaAtPath(schema, path) {
  let node = schema;
  for (const segment of toPath(path)) {
    if (!node) return undefined;
    node = /^\d+$/.test(segment) ? node.items : node.properties?.[segment];
  }
  return node;
}

const uiPath = (path) => toPath(path).map((s) => (/^\d+$/.test(s) ? 'items' : s));

function setIn(object, path, value) {
  let node = object;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key];
  }
  const last = path[path.length - 1];
  node[last] = isObject(node[last]) ? { ...node[last], ...value } : value;
}

function getIn(object, path) {
  return path.reduce((node, key) => (node == null ? undefined : node[key]), object);
}

export function validCapabilities(descriptor, schema, warnings = []) {
  const type = schemaType(schema);
  const kind = type === 'object' || type === 'array' ? type : 'primitive';
  return (descriptor['x-descriptors'] ?? []).filter((capability) => {
    const ok = COMPATIBLE[kind].some((c) => capability.startsWith(c));
    if (!ok) warnings.push(`${descriptor.path}: x-descriptor ${capability} is incompatible with ${type} values`);
    return ok;
  });
}

function capabilitiesToUi(capabilities) {
  const resource = capabilities.find((c) => c.startsWith(Capability.k8sResourcePrefix));
  if (resource) {
    const gvk = resource
      .slice(Capability.k8sResourcePrefix.length)
      .replace(/^core[:~]v1[:~]/, '')
      .replace(/:/g, '~');
    return { 'ui:widget': 'K8sResourceWidget', 'ui:options': { groupVersionKind: gvk } };
  }
  const options = capabilities.filter((c) => c.startsWith(Capability.select)).map((c) => c.slice(Capability.select.length));
  if (options.length) {
    return { 'ui:field': 'DropdownField', 'ui:items': Object.fromEntries(options.map((o) => [o, o])) };
  }
  const field = capabilities.map((c) => FIELD_OF.get(c)).find(Boolean);
  const widget = capabilities.map((c) => WIDGET_OF.get(c)).find(Boolean);
  return { ...(field && { 'ui:field': field }), ...(widget && { 'ui:widget': widget }) };
}

function dependencyUi(capability) {
  const match = capability.slice(Capability.fieldDependency.length).match(/^([^:]*):(.*)$/);
  if (!match) return {};
  const controlFieldPath = uiPath(match[1]);
  return {
    'ui:dependency': {
      controlFieldPath,
      controlFieldValue: match[2],
      controlFieldName: controlFieldPath[controlFieldPath.length - 1],
    },
  };
}

export function descriptorsToUiSchema(descriptors = [], specSchema, warnings = []) {
  const ui = {};
  descriptors.forEach((descriptor, index) => {
    const schema = schemaAtPath(specSchema, descriptor.path);
    if (!schema) {
      warnings.push(`${descriptor.path}: spec descriptor names a property the schema does not have`);
      return;
    }
    const capabilities = validCapabilities(descriptor, schema, warnings);
    const path = uiPath(descriptor.path);
    if (capabilities.includes(Capability.advanced)) {
      const parent = [...path.slice(0, -1), 'ui:advanced'];
      setIn(ui, parent, [...(getIn(ui, parent) ?? []), path[path.length - 1]]);
    }
    const dependency = capabilities.find((c) => c.startsWith(Capability.fieldDependency));
    setIn(ui, path, {
      ...(descriptor.description && { 'ui:description': descriptor.description }),
      ...(descriptor.displayName && { 'ui:title': descriptor.displayName }),
      ...(dependency && dependencyUi(dependency)),
      ...capabilitiesToUi(capabilities),
      'ui:sortOrder': index + 1,
    });
  });
  return mergeDeep(ui, schemaOrder(specSchema, ui));
}

function mergeDeep(target, source) {
  for (const [key, value] of Object.entries(source)) {
    if (isObject(value) && isObject(target[key])) mergeDeep(target[key], value);
    else target[key] = value;
  }
  return target;
}

function minSortOrder(ui, fallback) {
  if (!isObject(ui)) return fallback;
  if (ui['ui:sortOrder'] !== undefined) return Number(ui['ui:sortOrder']);
  const children = Object.keys(ui)
    .filter((k) => !k.includes(':') && isObject(ui[k]))
    .map((k) => minSortOrder(ui[k], fallback));
  return children.length ? Math.min(...children) : fallback;
}

function controlFieldsAt(ui, path) {
  if (!isObject(ui)) return [];
  const dependency = ui['ui:dependency'];
  const here =
    dependency && JSON.stringify(dependency.controlFieldPath.slice(0, -1)) === JSON.stringify(path)
      ? [dependency.controlFieldName]
      : [];
  return [...here, ...Object.values(ui).flatMap((child) => controlFieldsAt(child, path))];
}

// Sort weight of a property (lower first): required with ui schema, required, optional with ui schema, control
// fields, everything else; within a tier by sort order, dependants right after their control field.
function sortWeight(property, schema, ui, path) {
  const required = (schema.required ?? []).includes(property);
  const own = ui?.[property];
  const controls = controlFieldsAt(own, path);
  const isControl = Object.values(ui ?? {}).some(
    (sibling) =>
      isObject(sibling) &&
      JSON.stringify(sibling['ui:dependency']?.controlFieldPath) === JSON.stringify([...path, property]),
  );
  const order = minSortOrder(own, Object.keys(schema.properties ?? {}).length);
  const offset = (isControl ? order * 1e3 : 0) + order;
  if (controls.length) {
    return Math.max(...controls.map((c) => sortWeight(c, schema, ui, path))) + offset;
  }
  return (!required && !own && !isControl ? Infinity : 0) - (required ? 1e9 : 0) - (own ? 1e6 : 0) + offset;
}

function schemaOrder(schema, ui, path = []) {
  const type = schemaType(schema);
  if (type === 'array') {
    const items = schemaOrder(schema.items, ui?.items, [...path, 'items']);
    return Object.keys(items).length ? { items } : {};
  }
  if (type !== 'object') return {};
  const names = Object.keys(schema.properties ?? {});
  if (!names.length) return {};
  const order = names
    .map((name, i) => [name, sortWeight(name, schema, ui, path), i])
    .sort((a, b) => (a[1] === b[1] ? a[2] - b[2] : a[1] < b[1] ? -1 : 1))
    .map(([name]) => name);
  const result = order.length > 1 ? { 'ui:order': order } : {};
  for (const name of names) {
    const child = schemaOrder(schema.properties[name], ui?.[name], [...path, name]);
    if (Object.keys(child).length) result[name] = child;
  }
  return result;
}

// The form's schema: the CRD version's schema without status, under the console's metadata defaults.
export function formSchema(crd, version) {
  const served = crd.spec.versions.find((v) => v.name === version);
  const schema = clone(served.schema.openAPIV3Schema);
  delete schema.properties?.status;
  return defaultsDeep(schema, K8S_DEFAULTS);
}

export function uiSchema(schema, providedApi, warnings = []) {
  const metadata = Object.fromEntries(Object.keys(schema.properties.metadata.properties ?? {}).map((k) => [k, HIDDEN]));
  return {
    apiVersion: HIDDEN,
    kind: HIDDEN,
    metadata: {
      ...metadata,
      name: { 'ui:title': 'Name', 'ui:widget': 'TextWidget' },
      labels: { 'ui:title': 'Labels', 'ui:field': 'LabelsField' },
      'ui:options': { label: false },
      'ui:order': ['name', 'labels', '*'],
    },
    spec: {
      ...descriptorsToUiSchema(providedApi.specDescriptors, schema.properties.spec, warnings),
      'ui:options': { label: false },
    },
    'ui:order': ['metadata', 'spec', '*'],
  };
}

// The example the form starts from: the first alm-example of the kind.
export function exampleFor(csv, kind, apiVersion) {
  const examples = JSON.parse(csv.metadata.annotations['alm-examples'] ?? '[]');
  return examples.find((e) => e.kind === kind && e.apiVersion === apiVersion);
}

const definedAndEmpty = (v) => v != null && typeof v === 'object' && Object.keys(v).length === 0;

// Removes empty values (null, NaN, "", empty objects and arrays) the example does not hold explicitly.
export function prune(value, sample) {
  const data = clone(value);
  const walk = (current, example) => {
    const empty = (v, key) =>
      v == null ||
      Number.isNaN(v) ||
      v === '' ||
      (typeof v === 'object' && Object.keys(walk(v, example?.[key])).length === 0);
    for (const key of Object.keys(current)) {
      if (empty(current[key], key) && !definedAndEmpty(example?.[key])) delete current[key];
    }
    if (Array.isArray(current)) {
      const kept = current.filter((v) => v !== undefined);
      current.length = 0;
      current.push(...kept);
    }
    return current;
  };
  return walk(data, sample);
}
