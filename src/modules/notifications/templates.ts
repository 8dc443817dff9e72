/**
 * Template text: `{{name}}` placeholders, nothing else (no logic, no partials), so a template can be checked when it
 * is saved: every placeholder is declared, every declared variable is used, secrets are a subset. Rendering refuses a
 * missing or undeclared variable (a 422, never a message with a hole); HTML parts get their values escaped.
 */
import { commonErrors } from '../../platform/errors.ts';
import type { NotificationChannel } from './notifications.tables.ts';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]*)\s*\}\}/g;
const VARIABLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const SECRET_MASK = '••••••';

export interface TemplateText {
  channel: NotificationChannel;
  subject: string | null;
  body: string;
  htmlBody: string | null;
  variables: string[];
  secretVariables: string[];
}

export interface Rendered {
  subject: string | null;
  body: string;
  html: string | null;
}

/** Placeholder names in the order they appear (repeats kept out). */
export function placeholdersOf(text: string | null): string[] {
  if (!text) return [];
  const names = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER)) names.add(match[1]!);
  return [...names];
}

const LIMITS: Record<
  NotificationChannel,
  { subject: boolean; html: boolean; subjectMax: number; bodyMax: number }
> = {
  sms: { subject: false, html: false, subjectMax: 0, bodyMax: 1600 },
  email: { subject: true, html: true, subjectMax: 200, bodyMax: 100_000 },
  push: { subject: true, html: false, subjectMax: 100, bodyMax: 1000 },
  in_app: { subject: true, html: false, subjectMax: 200, bodyMax: 4000 },
};

/** The problems of a template as `{field, message}` (empty when it is sound). */
export function templateProblems(template: TemplateText): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const limits = LIMITS[template.channel];
  const add = (field: string, message: string) => problems.push({ field: `body.${field}`, message });
  if (limits.subject && !template.subject?.trim()) add('subject', `is required for ${template.channel}`);
  if (!limits.subject && template.subject !== null) add('subject', `must be null for ${template.channel}`);
  if (!limits.html && template.htmlBody !== null) add('html_body', `must be null for ${template.channel}`);
  if (template.subject && template.subject.length > limits.subjectMax)
    add('subject', `must be at most ${limits.subjectMax} characters`);
  if (template.subject && /[\r\n]/.test(template.subject)) add('subject', 'must be one line');
  if (!template.body.trim()) add('body', 'must not be empty');
  if (template.body.length > limits.bodyMax) add('body', `must be at most ${limits.bodyMax} characters`);
  const declared = new Set(template.variables);
  if (declared.size !== template.variables.length) add('variables', 'must not repeat a name');
  for (const name of template.variables)
    if (!VARIABLE_NAME.test(name)) add('variables', `"${name}" is not a variable name (a-z, 0-9, _)`);
  const used = new Set([
    ...placeholdersOf(template.subject),
    ...placeholdersOf(template.body),
    ...placeholdersOf(template.htmlBody),
  ]);
  for (const name of used)
    if (!declared.has(name)) add('variables', `the placeholder {{${name}}} is not declared`);
  for (const name of declared) if (!used.has(name)) add('variables', `"${name}" is declared but never used`);
  for (const name of template.secretVariables)
    if (!declared.has(name)) add('secret_variables', `"${name}" is not a declared variable`);
  for (const name of template.secretVariables)
    if (placeholdersOf(template.subject).includes(name))
      add('secret_variables', `"${name}" must not appear in the subject (subjects are stored and shown)`);
  return problems;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * Checks the values against the declaration of the templates one request renders (one per channel; their variables
 * may differ, e.g. an SMS without the title): every variable some template declares is present and a string,
 * nothing that no template declares, secret variables only among the secrets and the secrets only secret variables.
 * Each template is later rendered from the values it uses.
 */
export function checkVariables(
  templates: TemplateText | readonly TemplateText[],
  variables: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
): void {
  const all = Array.isArray(templates) ? (templates as readonly TemplateText[]) : [templates as TemplateText];
  const declared = new Set(all.flatMap((template) => template.variables));
  const secret = new Set(all.flatMap((template) => template.secretVariables));
  const given = { ...variables, ...secrets };
  const missing = [...declared].filter((name) => typeof given[name] !== 'string');
  const unknown = Object.keys(given).filter((name) => !declared.has(name));
  const misplaced = Object.keys(variables).filter((name) => secret.has(name));
  const unsealed = Object.keys(secrets).filter((name) => declared.has(name) && !secret.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw commonErrors.validation('The variables do not match the template', {
      errors: [
        ...missing.map((name) => ({ field: `variables.${name}`, message: 'is required by the template' })),
        ...unknown.map((name) => ({
          field: `variables.${name}`,
          message: 'is not declared by the template',
        })),
      ],
      missing,
      unknown,
    });
  }
  if (misplaced.length > 0)
    throw commonErrors.validation('Secret variables must be passed as secrets', { misplaced });
  // A plain variable passed as a secret would render as an empty hole (render only opens declared secrets).
  if (unsealed.length > 0)
    throw commonErrors.validation('Only secret variables may be passed as secrets', { unsealed });
}

function fill(text: string, values: Record<string, string>, html: boolean): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name] ?? '';
    return html ? escapeHtml(value) : value;
  });
}

/** Renders with every value present; secrets shown as the mask unless given. */
export function render(
  template: TemplateText,
  variables: Record<string, string>,
  secrets: Record<string, string> | null,
): Rendered {
  const values: Record<string, string> = { ...variables };
  for (const name of template.secretVariables) values[name] = secrets?.[name] ?? SECRET_MASK;
  return {
    subject:
      template.subject === null ? null : fill(template.subject, values, false).replace(/[\r\n]+/g, ' '),
    body: fill(template.body, values, false),
    html: template.htmlBody === null ? null : fill(template.htmlBody, values, true),
  };
}
