/**
 * The unit a per-address velocity limit counts: an IPv4 address, or an IPv6 address's /64 network. One IPv6
 * subscriber is routinely given a whole /64 (RFC 6177; mobile carriers hand every handset one), so counting single
 * IPv6 addresses lets one client rotate through 2^64 of them and never reach a per-address limit. An IPv4-mapped
 * IPv6 address (`::ffff:203.0.113.7`, as a dual-stack socket reports IPv4 clients) counts as its IPv4 address.
 */
import { isIP } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (already checked with `isIP`), with an IPv4 tail as two groups. */
function groupsOf(address: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const split = address.indexOf('::');
  if (split === -1) return parse(address);
  const head = parse(address.slice(0, split));
  const tail = parse(address.slice(split + 2));
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

export function addressBucket(ip: string): string {
  const bare = ip.split('%')[0]!.toLowerCase();
  if (isIP(bare) !== 6) return ip;
  const groups = groupsOf(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
