/** talisman ships no types: the one function the matcher imports from it. */
declare module 'talisman/metrics/jaro-winkler.js' {
  /** Winkler's score (boost above 0.7, common prefix up to 4 characters, scaling 0.1), 0..1. */
  export default function jaroWinkler(a: string, b: string): number;
}
