/**
 * The transaction types of the composed system. Each payment module declares the types it records in its
 * `defineModule({ transactionTypes })`; the module system gathers them into one registry before any module is built
 * and hands it to every module (`ctx.transactionTypes`). The payment engine refuses a plan whose type no module
 * declared, the transaction filters accept only declared types, and receipts take their labels from here.
 */

/** A transaction type's name: lower-case letters, digits and underscores (`cash_in`, `bank_topup`). */
export const TRANSACTION_TYPE_PATTERN = '^[a-z][a-z0-9_]*$';
const NAME = new RegExp(TRANSACTION_TYPE_PATTERN);

/** A type with the label receipts and statements show (a bare name gets its words: `cash_in` → "Cash in"). */
export interface TransactionTypeDeclaration {
  readonly type: string;
  readonly label: string;
}

/** What a module lists in `transactionTypes`: a name, or a name with its label. */
export type TransactionTypeEntry = string | TransactionTypeDeclaration;

/** The name and label of one entry of a module's `transactionTypes`. */
export function transactionTypeDeclaration(entry: TransactionTypeEntry): TransactionTypeDeclaration {
  if (typeof entry !== 'string') return entry;
  const words = entry.replaceAll('_', ' ');
  return { type: entry, label: words.charAt(0).toUpperCase() + words.slice(1) };
}

/** Whether a name is a well-formed transaction type name. */
export function isTransactionTypeName(name: string): boolean {
  return NAME.test(name);
}

export class TransactionTypes {
  readonly #declared = new Map<string, TransactionTypeDeclaration & { module: string }>();

  /** From each module's declarations (a type declared twice is refused by `checkDeclarations` first). */
  constructor(modules: readonly { name: string; transactionTypes?: readonly TransactionTypeEntry[] }[] = []) {
    for (const module of modules)
      for (const entry of module.transactionTypes ?? []) {
        const declaration = transactionTypeDeclaration(entry);
        if (!isTransactionTypeName(declaration.type))
          throw new Error(
            `transaction type "${declaration.type}" of module "${module.name}" must match ${TRANSACTION_TYPE_PATTERN}`,
          );
        if (this.#declared.has(declaration.type))
          throw new Error(`transaction type "${declaration.type}" is declared twice`);
        this.#declared.set(declaration.type, { ...declaration, module: module.name });
      }
  }

  /** Every declared type, in declaration order (modules in dependency order). */
  list(): string[] {
    return [...this.#declared.keys()];
  }

  has(type: string): boolean {
    return this.#declared.has(type);
  }

  /**
   * Throws when no module declared the type: a plan of an undeclared type is a programming error (the module that
   * records it forgot its `transactionTypes`), not bad input.
   */
  assert(type: string): void {
    if (!this.#declared.has(type))
      throw new Error(
        `transaction type "${type}" is not declared by any module (add it to the recording module's transactionTypes); declared: ${this.list().join(', ') || 'none'}`,
      );
  }

  /** What receipts and statements call the type (an undeclared type, e.g. of a removed module, shows its words). */
  label(type: string): string {
    return this.#declared.get(type)?.label ?? transactionTypeDeclaration(type).label;
  }

  /** The module that declared the type. */
  owner(type: string): string | undefined {
    return this.#declared.get(type)?.module;
  }
}
