/**
 * A single-threaded model of the wallets: committed transfers applied one at a time in commit order, deciding
 * "insufficient funds" exactly as the product must (the source pays amount + fee + duty, never below zero), with
 * the fee and duty computed from the product's fee rule read from the database (percentage in basis points, rounded
 * half up, then a fixed part, a minimum and a maximum; duty a percentage of the fee). The rule is implemented here
 * again, independently of `feeFor`, so a product bug in it is a divergence rather than shared.
 *
 * The model also keeps every state each wallet went through (with the commit position), so a balance someone read,
 * or the `available` figure a refusal reported, can be checked against the states that existed while the request
 * was in flight (a linearizability check per wallet).
 */

/** A product fee rule: stored amounts are decimal strings of minor units; the API takes them as integers. */
export interface FeeRule {
  fixed_minor: number | string;
  percent_bps: number;
  min_minor: number | string;
  max_minor: number | string | null;
  tax_bps: number;
}

/** round(value × bps / 10 000), halves up, in integers. */
function basisPoints(value: bigint, bps: bigint): bigint {
  const product = value * bps;
  const quotient = product / 10_000n;
  const remainder = product % 10_000n;
  return remainder * 2n >= 10_000n ? quotient + 1n : quotient;
}

export function modelFee(rule: FeeRule | undefined, amount: bigint): { fee: bigint; tax: bigint } {
  if (!rule) return { fee: 0n, tax: 0n };
  let fee = BigInt(rule.fixed_minor) + basisPoints(amount, BigInt(rule.percent_bps));
  if (fee < BigInt(rule.min_minor)) fee = BigInt(rule.min_minor);
  if (rule.max_minor !== null && fee > BigInt(rule.max_minor)) fee = BigInt(rule.max_minor);
  return { fee, tax: basisPoints(fee, BigInt(rule.tax_bps)) };
}

export interface ModelTransfer {
  /** Position in the commit order (journal order), 1-based. */
  position: number;
  key: string;
  source: string;
  destination: string;
  amount: bigint;
}

export interface WalletState {
  /** 0 for the opening balance, else the commit position that produced this state. */
  position: number;
  /** The key of the transfer that produced it ('' for the opening balance). */
  key: string;
  balance: bigint;
}

export interface Applied {
  ok: boolean;
  fee: bigint;
  tax: bigint;
  required: bigint;
  /** The source balance the decision saw. */
  sourceBefore: bigint;
  sourceAfter: bigint;
  destinationAfter: bigint;
}

export class WalletModel {
  readonly rule: FeeRule | undefined;
  readonly #balances = new Map<string, bigint>();
  readonly #history = new Map<string, WalletState[]>();
  feeIncome = 0n;
  dutyPayable = 0n;

  constructor(opening: ReadonlyMap<string, bigint>, rule: FeeRule | undefined) {
    this.rule = rule;
    for (const [wallet, balance] of opening) {
      this.#balances.set(wallet, balance);
      this.#history.set(wallet, [{ position: 0, key: '', balance }]);
    }
  }

  balance(wallet: string): bigint {
    const value = this.#balances.get(wallet);
    if (value === undefined) throw new Error(`the model has no wallet ${wallet}`);
    return value;
  }

  balances(): Map<string, bigint> {
    return new Map(this.#balances);
  }

  /** States of a wallet in order: index 0 the opening balance, index k after its k-th committed transfer. */
  history(wallet: string): readonly WalletState[] {
    return this.#history.get(wallet) ?? [];
  }

  quote(amount: bigint): { fee: bigint; tax: bigint; required: bigint } {
    const { fee, tax } = modelFee(this.rule, amount);
    return { fee, tax, required: amount + fee + tax };
  }

  /**
   * Applies a transfer the database committed. `ok: false` is a divergence: the model would have refused it (the
   * state is left unchanged so the rest of the replay still means something).
   */
  apply(transfer: ModelTransfer): Applied {
    const { fee, tax, required } = this.quote(transfer.amount);
    const sourceBefore = this.balance(transfer.source);
    const destinationBefore = this.balance(transfer.destination);
    if (sourceBefore < required || transfer.source === transfer.destination)
      return {
        ok: false,
        fee,
        tax,
        required,
        sourceBefore,
        sourceAfter: sourceBefore,
        destinationAfter: destinationBefore,
      };
    const sourceAfter = sourceBefore - required;
    const destinationAfter = destinationBefore + transfer.amount;
    this.#balances.set(transfer.source, sourceAfter);
    this.#balances.set(transfer.destination, destinationAfter);
    this.#history
      .get(transfer.source)!
      .push({ position: transfer.position, key: transfer.key, balance: sourceAfter });
    this.#history
      .get(transfer.destination)!
      .push({ position: transfer.position, key: transfer.key, balance: destinationAfter });
    this.feeIncome += fee;
    this.dutyPayable += tax;
    return { ok: true, fee, tax, required, sourceBefore, sourceAfter, destinationAfter };
  }

  /**
   * What the ledger reports as `available` when it refuses a transfer from a wallet holding `balance`: the balance
   * before the batch (migration 0023; it used to be the balance left after the legs that fitted).
   */
  reportedAvailable(balance: bigint): bigint {
    return balance;
  }

  /**
   * Indices (into `history(wallet)`) of the states a request could have seen: not before the last transfer acknowledged
   * before it was sent, not after the first transfer sent after it was answered. `ackAt(key)` / `sentAt(key)` give the
   * client-side times of a committed transfer (undefined when never acknowledged).
   */
  window(
    wallet: string,
    sentAt: number,
    answeredAt: number,
    times: (key: string) => { firstSent: number; acknowledged: number | undefined },
  ): { low: number; high: number } {
    const states = this.history(wallet);
    let low = 0;
    let high = states.length - 1;
    for (let index = 1; index < states.length; index += 1) {
      const time = times(states[index]!.key);
      if (time.acknowledged !== undefined && time.acknowledged < sentAt) low = index;
    }
    for (let index = states.length - 1; index >= 1; index -= 1) {
      const time = times(states[index]!.key);
      if (time.firstSent > answeredAt) high = index - 1;
    }
    return { low, high };
  }
}
