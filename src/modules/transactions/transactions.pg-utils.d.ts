/** node-postgres ships no types for its utils: the one function a payment part uses from it. */
declare module 'pg/lib/utils.js' {
  /** A value in the text form node-postgres binds it in (dates, arrays, buffers, objects as JSON); null as null. */
  export function prepareValue(value: unknown): string | Buffer | null | undefined;
  const utils: { prepareValue: typeof prepareValue };
  export default utils;
}
