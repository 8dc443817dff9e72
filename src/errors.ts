/**
 * The run-time catalogue of error codes: the platform's generic ones and each module's (the `errors` of its module
 * definition, declared in its `<module>.errors.ts`), collected once from the module list (src/modules.ts). The
 * OpenAPI document lists each operation's codes from it, docs/errors.md is written from it (`npm run docs:errors`),
 * and a code that two catalogues declare stops start-up with both modules named.
 */
import { MODULES } from './modules.ts';
import {
  collectErrorCatalogue,
  type ErrorCatalogue,
  type ErrorCatalogueEntry,
  type ErrorCode,
  platformErrorCatalogue,
} from './platform/error-catalogue.ts';

/** The platform's catalogue, then each module's in the order of the module list. */
export const ERROR_CATALOGUES: readonly ErrorCatalogue[] = [
  platformErrorCatalogue,
  ...MODULES.flatMap((module) => (module.errors ? [module.errors] : [])),
];

let collected: ReadonlyMap<ErrorCode, ErrorCatalogueEntry> | undefined;

/** Every declared code with its definition and owning module; throws when two catalogues declare one code. */
export function errorCatalogue(): ReadonlyMap<ErrorCode, ErrorCatalogueEntry> {
  collected ??= collectErrorCatalogue(ERROR_CATALOGUES);
  return collected;
}

export function isErrorCode(value: string): value is ErrorCode {
  return errorCatalogue().has(value as ErrorCode);
}
