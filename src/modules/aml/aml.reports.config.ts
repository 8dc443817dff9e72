/** The goAML reports' environment variables (the aml module's `config`, reports area). */
import { ConfigProblem, integer, refusedInProduction, text, variable } from '../../platform/config-spec.ts';

function code(length: number) {
  const pattern = new RegExp(`^[A-Z]{${length}}$`);
  return (raw: string): string => {
    const value = raw.trim().toUpperCase();
    if (!pattern.test(value)) throw new ConfigProblem(`must be ${length} letters, got "${raw}"`);
    return value;
  };
}

export const reportsConfig = {
  GOAML_RENTITY_ID: refusedInProduction(
    variable(
      'The reporting entity id the financial intelligence unit assigned to the bank (goAML `rentity_id`). The ' +
        'default 1 is for development only.',
      '1',
      integer(1, 2_147_483_647),
    ),
    (value) =>
      value === 1 ? 'GOAML_RENTITY_ID must be the id the FIU assigned (not the default 1)' : undefined,
  ),
  GOAML_RENTITY_BRANCH: variable(
    'The reporting branch (goAML `rentity_branch`) the FIU knows the bank’s reports by; unset: none.',
    undefined,
    text,
  ),
  GOAML_CURRENCY_LOCAL: variable(
    'The local currency (ISO 4217) goAML amounts (`amount_local`) are reported in; other currencies are converted at ' +
      'the payment engine’s FX rate and reported with their foreign amount.',
    'KES',
    code(3),
  ),
  GOAML_COUNTRY: variable(
    'The country (ISO 3166 alpha-2) of the bank’s wallets (`from_country`/`to_country`) and of an identity ' +
      'document whose issuing country is not on file.',
    'KE',
    code(2),
  ),
  GOAML_LOCATION_ADDRESS: variable(
    'The reporting office’s street address (goAML `location`); unset: reports carry no location.',
    undefined,
    text,
  ),
  GOAML_LOCATION_CITY: variable(
    'The reporting office’s city (with GOAML_LOCATION_ADDRESS).',
    'Nairobi',
    text,
  ),
};

/** The parsed values (ctx.config of the aml module holds them among the other areas'). */
export interface ReportsConfigValues {
  readonly GOAML_RENTITY_ID: number;
  readonly GOAML_RENTITY_BRANCH: string | undefined;
  readonly GOAML_CURRENCY_LOCAL: string;
  readonly GOAML_COUNTRY: string;
  readonly GOAML_LOCATION_ADDRESS: string | undefined;
  readonly GOAML_LOCATION_CITY: string;
}
