// The console's "Create <kind>" form page: react-jsonschema-form with widgets, fields and templates that behave
// like the OpenShift console's dynamic form (its names are the ones console-rules.js writes into the uiSchema).
// draw.mjs hands the page its input in window.__FORM_INPUT__ and reads what the Create button submits from
// window.__SUBMITTED__.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import Form from '@rjsf/core';
import validator from '@rjsf/validator-ajv8';

const input = window.__FORM_INPUT__;

const get = (object, path) => path.reduce((node, key) => (node == null ? undefined : node[key]), object);

// lodash's startCase, which the console applies to a property name without a title: "storageClass" → "Storage Class".
const startCase = (name) =>
  String(name ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');

// The label the console shows: the descriptor's displayName, else the schema's title, else the name, start-cased.
const labelOf = (uiSchema, schema, name) => uiSchema?.['ui:title'] ?? schema?.title ?? startCase(name);

function TextWidget({ id, value, onChange, required, readonly, options }) {
  return (
    <input
      id={id}
      className="pf-c-form-control"
      type="text"
      value={value ?? ''}
      required={required}
      readOnly={readonly}
      placeholder={options?.placeholder}
      onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
    />
  );
}

function NumberWidget({ id, value, onChange }) {
  return (
    <input
      id={id}
      className="pf-c-form-control"
      type="number"
      value={value ?? ''}
      onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
    />
  );
}

function PodCountWidget({ id, value, onChange }) {
  const n = Number(value ?? 0);
  return (
    <div className="co-pod-count">
      <button type="button" aria-label="Decrement" onClick={() => onChange(Math.max(0, n - 1))}>
        −
      </button>
      <input id={id} type="number" value={value ?? ''} onChange={(e) => onChange(Number(e.target.value))} />
      <button type="button" aria-label="Increment" onClick={() => onChange(n + 1)}>
        +
      </button>
    </div>
  );
}

function PasswordWidget({ id, value, onChange }) {
  return <input id={id} className="pf-c-form-control" type="password" value={value ?? ''} onChange={(e) => onChange(e.target.value)} />;
}

function SwitchWidget({ id, value, onChange }) {
  return (
    <label className="pf-c-switch" htmlFor={id}>
      <input id={id} type="checkbox" role="switch" checked={!!value} onChange={(e) => onChange(e.target.checked)} />
      <span className="pf-c-switch__toggle" />
      <span className="pf-c-switch__label">{value ? 'True' : 'False'}</span>
    </label>
  );
}

function CheckboxWidget({ id, value, onChange, label }) {
  return (
    <label htmlFor={id}>
      <input id={id} type="checkbox" checked={!!value} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

function ImagePullPolicyWidget({ id, value, onChange }) {
  return (
    <div id={id} role="radiogroup">
      {['Always', 'IfNotPresent', 'Never'].map((policy) => (
        <label key={policy} className="co-radio">
          <input type="radio" name={id} checked={value === policy} onChange={() => onChange(policy)} /> {policy}
        </label>
      ))}
    </div>
  );
}

// The console lists the namespace's objects of the kind; the test page has no cluster, so it takes a name.
function K8sResourceWidget({ id, value, onChange, options }) {
  const kind = (options?.groupVersionKind ?? '').split('~').pop();
  return (
    <input
      id={id}
      className="pf-c-form-control co-resource-dropdown"
      type="text"
      value={value ?? ''}
      placeholder={`Select ${kind}`}
      onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
    />
  );
}

function DropdownField({ fieldPathId, formData, onChange, uiSchema, schema }) {
  const items = uiSchema?.['ui:items'] ?? {};
  return (
    <select
      id={fieldPathId.$id}
      className="pf-c-form-control"
      value={formData ?? ''}
      onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value, fieldPathId.path)}
    >
      <option value="">{`Select ${uiSchema?.['ui:title'] ?? schema.title ?? ''}`}</option>
      {Object.entries(items).map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}

function LabelsField({ fieldPathId, formData, onChange }) {
  const text = Object.entries(formData ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    <input
      id={fieldPathId.$id}
      className="pf-c-form-control"
      type="text"
      placeholder="app=frontend"
      defaultValue={text}
      onBlur={(e) => {
        const labels = Object.fromEntries(
          e.target.value
            .split(',')
            .map((pair) => pair.trim())
            .filter(Boolean)
            .map((pair) => pair.split('=').map((s) => s.trim())),
        );
        onChange(Object.keys(labels).length ? labels : undefined, fieldPathId.path);
      }}
    />
  );
}

function ResourceRequirementsField({ fieldPathId, formData, onChange }) {
  const set = (kind, resource, value) => {
    const next = structuredClone(formData ?? {});
    next[kind] = { ...(next[kind] ?? {}), [resource]: value || undefined };
    onChange(next, fieldPathId.path);
  };
  return (
    <div className="co-resource-requirements" id={fieldPathId.$id}>
      {['limits', 'requests'].map((kind) => (
        <div key={kind}>
          <strong>{kind === 'limits' ? 'Limits' : 'Requests'}</strong>
          {['cpu', 'memory', 'ephemeral-storage'].map((resource) => (
            <label key={resource}>
              {resource === 'cpu' ? 'CPU cores' : resource === 'memory' ? 'Memory' : 'Storage'}
              <input type="text" value={formData?.[kind]?.[resource] ?? ''} onChange={(e) => set(kind, resource, e.target.value)} />
            </label>
          ))}
        </div>
      ))}
    </div>
  );
}

// Affinity editors are long forms of their own in the console; here they show what is set (kept as it is).
function AffinityField({ fieldPathId, formData, uiSchema }) {
  return (
    <div id={fieldPathId.$id} className="co-affinity">
      {formData ? `${Object.keys(formData).length} rule group(s)` : `No ${uiSchema?.['ui:title'] ?? 'affinity'} rules`}
    </div>
  );
}

function FieldTemplate({ id, label, children, description, uiSchema, hidden, registry, schema }) {
  const dependency = uiSchema?.['ui:dependency'];
  if (hidden || uiSchema?.['ui:widget'] === 'hidden') return null;
  if (dependency) {
    const control = get(registry.formContext.formData, ['spec', ...dependency.controlFieldPath]);
    if (String(control) !== dependency.controlFieldValue) return null;
  }
  const isObject = schema.type === 'object' && !uiSchema?.['ui:field'];
  const showLabel =
    !isObject && uiSchema?.['ui:options']?.label !== false && uiSchema?.['ui:widget'] !== 'CheckboxWidget';
  return (
    <div className={`form-group co-dynamic-form__field ${isObject ? 'co-dynamic-form__group' : ''}`} data-field={id}>
      {showLabel && (
        <label className="control-label" htmlFor={id}>
          {labelOf(uiSchema, schema, label)}
        </label>
      )}
      {children}
      {!isObject && description}
    </div>
  );
}

function ObjectFieldTemplate({ title, description, properties, uiSchema, schema, fieldPathId }) {
  const showLabel = uiSchema?.['ui:options']?.label !== false && fieldPathId.path.length > 0;
  const advanced = new Set(uiSchema?.['ui:advanced'] ?? []);
  const visible = properties.filter((p) => !p.hidden);
  const normal = visible.filter((p) => !advanced.has(p.name));
  const folded = visible.filter((p) => advanced.has(p.name));
  const body = (
    <>
      {normal.map((p) => p.content)}
      {folded.length > 0 && (
        <details className="co-advanced">
          <summary>Advanced configuration</summary>
          {folded.map((p) => p.content)}
        </details>
      )}
    </>
  );
  if (!showLabel) return body;
  return (
    <fieldset className="co-dynamic-form__fieldset" id={fieldPathId.$id}>
      <legend>{labelOf(uiSchema, schema, title)}</legend>
      {description && <div className="help-block">{description}</div>}
      {body}
    </fieldset>
  );
}

function DescriptionField({ description, id }) {
  return description ? (
    <p id={id} className="help-block">
      {description}
    </p>
  ) : null;
}

const widgets = {
  TextWidget,
  NumberWidget,
  PodCountWidget,
  PasswordWidget,
  SwitchWidget,
  CheckboxWidget,
  ImagePullPolicyWidget,
  K8sResourceWidget,
};
const fields = {
  DropdownField,
  LabelsField,
  ResourceRequirementsField,
  NodeAffinityField: AffinityField,
  PodAffinityField: AffinityField,
  UpdateStrategyField: AffinityField,
};

function CreatePage() {
  const [formData, setFormData] = useState(input.formData);
  return (
    <div className="co-m-pane">
      <h1 className="co-m-pane__heading">Create {input.displayName}</h1>
      <p className="help-block">Create by completing the form. Default values may be provided by the Operator authors.</p>
      <div className="co-alert">
        Note: Some fields may not be represented in this form view. Please select &quot;YAML view&quot; for full control.
      </div>
      <Form
        className="co-dynamic-form"
        schema={input.schema}
        uiSchema={input.uiSchema}
        formData={formData}
        validator={validator}
        widgets={widgets}
        fields={fields}
        templates={{ FieldTemplate, ObjectFieldTemplate, DescriptionFieldTemplate: DescriptionField }}
        formContext={{ formData, namespace: input.namespace }}
        noValidate
        noHtml5Validate
        showErrorList={false}
        onChange={(e) => setFormData(e.formData)}
        onSubmit={(e) => {
          window.__SUBMITTED__ = e.formData;
        }}
      >
        <div className="pf-c-form__actions">
          <button type="submit" className="pf-c-button pf-m-primary" data-test="create-dynamic-form">
            Create
          </button>
          <button type="button" className="pf-c-button pf-m-secondary">
            Cancel
          </button>
        </div>
      </Form>
    </div>
  );
}

window.addEventListener('error', (e) => {
  window.__PAGE_ERRORS__ = [...(window.__PAGE_ERRORS__ ?? []), String(e.message)];
});
createRoot(document.getElementById('root')).render(<CreatePage />);
