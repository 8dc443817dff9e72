/**
 * Validates a goAML report against the schema kept in the repository (goaml/goAML_report.xsd) with libxml2's
 * validator (xmllint-wasm). A report that does not validate is never stored.
 */
import { readFile } from 'node:fs/promises';
import { validateXML } from 'xmllint-wasm';

const SCHEMA_URL = new URL('./goaml/goAML_report.xsd', import.meta.url);

let schema: Promise<string> | undefined;

/** The schema's text (read once per process). */
export function goamlSchema(): Promise<string> {
  schema ??= readFile(SCHEMA_URL, 'utf8');
  return schema;
}

export interface GoamlValidation {
  valid: boolean;
  /** libxml2's messages, without the file name (`Element 'x': This element is not expected …`). */
  errors: string[];
}

export async function validateGoaml(xml: string): Promise<GoamlValidation> {
  const result = await validateXML({
    xml: { fileName: 'report.xml', contents: xml },
    schema: { fileName: 'goAML_report.xsd', contents: await goamlSchema() },
  });
  return { valid: result.valid, errors: result.errors.map((error) => error.message.trim()) };
}
