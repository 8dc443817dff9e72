/** The list loader's environment variables (the aml module's `config`, screening area). */
import { integer, text, url, variable } from '../../platform/config-spec.ts';

export const listsConfig = {
  AML_LISTS_DIR: variable(
    'A directory the list watcher reads every hour (at minute 17): `un-consolidated.xml`, `ofac-sdn.csv` (with ' +
      '`ofac-alt.csv` beside it) and `opensanctions.jsonl`; a file is loaded only when its checksum changed. Unset: ' +
      'not watched.',
    undefined,
    text,
  ),
  AML_LISTS_URL_UN: variable(
    'The URL of the UN Security Council consolidated list (XML) the watcher downloads; unset: not fetched.',
    undefined,
    url(['https:', 'http:']),
  ),
  AML_LISTS_URL_OFAC: variable(
    'The URL of OFAC’s SDN list (sdn.csv) the watcher downloads; unset: not fetched.',
    undefined,
    url(['https:', 'http:']),
  ),
  AML_LISTS_URL_OFAC_ALT: variable(
    'The URL of OFAC’s alias file (alt.csv) loaded with AML_LISTS_URL_OFAC; unset: no aliases.',
    undefined,
    url(['https:', 'http:']),
  ),
  AML_LISTS_URL_OPENSANCTIONS: variable(
    'The URL of an OpenSanctions FollowTheMoney JSON lines export the watcher downloads; unset: not fetched.',
    undefined,
    url(['https:', 'http:']),
  ),
  AML_LISTS_RESCREEN_BATCH: variable(
    'Customers screened per job of the rescreening that follows a list change (each batch queues the next).',
    '200',
    integer(1, 10_000),
  ),
};

export interface ListsConfigValues {
  readonly AML_LISTS_DIR?: string;
  readonly AML_LISTS_URL_UN?: string;
  readonly AML_LISTS_URL_OFAC?: string;
  readonly AML_LISTS_URL_OFAC_ALT?: string;
  readonly AML_LISTS_URL_OPENSANCTIONS?: string;
  readonly AML_LISTS_RESCREEN_BATCH: number;
}
