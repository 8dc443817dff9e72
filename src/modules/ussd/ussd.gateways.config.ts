/**
 * The USSD gateways' environment variables (part of the ussd module's `config`; `.env.example`): per gateway its
 * secret path segment, an optional address allowlist and its session timeout. A gateway without a secret is off
 * (its route answers 404), except outside production, where the well-known `dev-ussd-secret` stands in so the quick
 * start and the simulator work without setup.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import {
  ConfigProblem,
  integer,
  list,
  pathSecrets,
  type VariableSpec,
  variable,
} from '../../platform/config-spec.ts';
import { GATEWAYS, type GatewayName } from './ussd.gateway.types.ts';

/** The secret every gateway answers to outside production when its own is unset; refused in production. */
export const DEV_USSD_SECRET = 'dev-ussd-secret';

/** Each gateway's session timeout (seconds) when not configured: what the gateway itself allows a session. */
export const DEFAULT_SESSION_TTL_SECONDS: Readonly<Record<GatewayName, number>> = {
  at: 180,
  hubtel: 120,
  arkesel: 120,
  nalo: 120,
};

const LABELS: Record<GatewayName, string> = {
  at: "Africa's Talking",
  hubtel: 'Hubtel',
  arkesel: 'Arkesel',
  nalo: 'Nalo',
};

/** Addresses and CIDR ranges (IPv4 or IPv6), comma-separated. */
export function addressList(raw: string): string[] {
  const entries = list(raw);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (!family || !validBits || extra !== undefined)
      throw new ConfigProblem(`"${entry}" is not an IP address or CIDR range`);
  }
  return entries;
}

function secretVariable(gateway: GatewayName): VariableSpec<string, undefined> {
  return variable(
    `Secret path segment of the ${LABELS[gateway]} USSD callback (/api/v1/ussd/${gateway}/<secret>; 1–100 URL-safe ` +
      'characters), or a comma-separated list during a rotation: the current one first, then the previous one, still ' +
      `accepted until removed. Unset: the ${gateway} route answers 404 (off), except with PRODUCTION=false, where ` +
      `it is "${DEV_USSD_SECRET}" (the quick start and the simulator); "${DEV_USSD_SECRET}" is ignored in production.`,
    undefined,
    pathSecrets,
    true,
  );
}

function addressesVariable(gateway: GatewayName): VariableSpec<string[], undefined> {
  return variable(
    `Addresses or CIDR ranges (comma-separated) the ${LABELS[gateway]} USSD callbacks may come from (403 ` +
      'otherwise; the client address as TRUST_PROXY reads it). Unset: any address.',
    undefined,
    addressList,
  );
}

function ttlVariable(gateway: GatewayName): VariableSpec<number, string> {
  return variable(
    `How long (seconds) a USSD session of ${LABELS[gateway]} is kept after its last step (default: the gateway's own limit).`,
    String(DEFAULT_SESSION_TTL_SECONDS[gateway]),
    integer(10, 3600),
  );
}

export const gatewayConfig = {
  USSD_AT_SECRET: secretVariable('at'),
  USSD_AT_ALLOWED_IPS: addressesVariable('at'),
  USSD_AT_SESSION_TTL_SECONDS: ttlVariable('at'),
  USSD_HUBTEL_SECRET: secretVariable('hubtel'),
  USSD_HUBTEL_ALLOWED_IPS: addressesVariable('hubtel'),
  USSD_HUBTEL_SESSION_TTL_SECONDS: ttlVariable('hubtel'),
  USSD_ARKESEL_SECRET: secretVariable('arkesel'),
  USSD_ARKESEL_ALLOWED_IPS: addressesVariable('arkesel'),
  USSD_ARKESEL_SESSION_TTL_SECONDS: ttlVariable('arkesel'),
  USSD_NALO_SECRET: secretVariable('nalo'),
  USSD_NALO_ALLOWED_IPS: addressesVariable('nalo'),
  USSD_NALO_SESSION_TTL_SECONDS: ttlVariable('nalo'),
} as const;

type Upper<G extends GatewayName> = Uppercase<G>;

/** The parsed values of `gatewayConfig` (as `ctx.config` holds them). */
export type GatewayConfigValues = {
  readonly [G in GatewayName as `USSD_${Upper<G>}_SECRET`]: string | undefined;
} & {
  readonly [G in GatewayName as `USSD_${Upper<G>}_ALLOWED_IPS`]: readonly string[] | undefined;
} & {
  readonly [G in GatewayName as `USSD_${Upper<G>}_SESSION_TTL_SECONDS`]: number;
};

/** What the routes need: the gateways' variables and whether this is production. */
export type GatewayRouteConfig = GatewayConfigValues & { readonly PRODUCTION: boolean };

/** One gateway's settings, resolved from the variables. */
export interface GatewaySettings {
  readonly gateway: GatewayName;
  /** Empty: the gateway is off. */
  readonly secrets: readonly string[];
  /** Null: any address. */
  readonly allowed: BlockList | null;
  readonly sessionTtlSeconds: number;
}

function blockList(entries: readonly string[]): BlockList {
  const blocks = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) blocks.addAddress(address, type);
    else blocks.addSubnet(address, Number(bits), type);
  }
  return blocks;
}

export function gatewaySettings(config: GatewayRouteConfig, gateway: GatewayName): GatewaySettings {
  const name = gateway.toUpperCase() as Upper<GatewayName>;
  const configured = list(config[`USSD_${name}_SECRET`] ?? '');
  const secrets = config.PRODUCTION
    ? configured.filter((secret) => secret !== DEV_USSD_SECRET)
    : configured.length > 0
      ? configured
      : [DEV_USSD_SECRET];
  const addresses = config[`USSD_${name}_ALLOWED_IPS`];
  return {
    gateway,
    secrets,
    allowed: addresses && addresses.length > 0 ? blockList(addresses) : null,
    sessionTtlSeconds: config[`USSD_${name}_SESSION_TTL_SECONDS`],
  };
}

export function allGatewaySettings(config: GatewayRouteConfig): Record<GatewayName, GatewaySettings> {
  return Object.fromEntries(GATEWAYS.map((gateway) => [gateway, gatewaySettings(config, gateway)])) as Record<
    GatewayName,
    GatewaySettings
  >;
}

/** The session timeout the engine keeps a gateway's sessions for (configured, else the gateway's own). */
export function sessionTtlSeconds(config: GatewayConfigValues, gateway: GatewayName): number {
  const name = gateway.toUpperCase() as Upper<GatewayName>;
  return config[`USSD_${name}_SESSION_TTL_SECONDS`] ?? DEFAULT_SESSION_TTL_SECONDS[gateway];
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether the path segment is one of the gateway's secrets. Digests of equal length are compared, every secret
 * without an early exit, so neither the length nor which secret nearly matched shows in the timing.
 */
export function secretMatches(settings: GatewaySettings, given: string): boolean {
  const candidate = digest(given);
  let matched = false;
  for (const secret of settings.secrets) if (timingSafeEqual(candidate, digest(secret))) matched = true;
  return matched;
}

/** Whether the address may call the gateway's route (no allowlist: any address). */
export function addressAllowed(settings: GatewaySettings, address: string): boolean {
  if (!settings.allowed) return true;
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return settings.allowed.check(address, 'ipv4');
  // An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is matched as IPv4 too.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return settings.allowed.check(address, 'ipv6') || (mapped ? settings.allowed.check(mapped, 'ipv4') : false);
}
