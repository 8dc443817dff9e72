/**
 * Loan products. A product's terms are versioned: a change writes a new version and moves `current_version`, so
 * applications and loans keep the version they were made with (`version(productId, n)` reads any of them). Each
 * change is one transaction with its audit entry. Customers see active products only.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { CURRENCIES } from '../../platform/money.ts';
import { loansErrors } from './loans.errors.ts';
import {
  findProduct,
  insertProduct,
  insertProductVersion,
  listProducts,
  lockProduct,
  type ProductRow,
  type ProductWithTerms,
  productVersion,
  productVersions,
  updateProduct,
} from './loans.products.repository.ts';
import {
  type FieldError,
  type TermsChangeInput,
  type TermsInput,
  termsErrors,
  termsFromInput,
  termsInvalid,
  termsView,
  termsWithChange,
} from './loans.products.validation.ts';
import type { ProductTerms } from './loans.terms.ts';

export interface ProductAddInput {
  code: string;
  name: string;
  currency: string;
  terms: TermsInput;
}

export interface ProductUpdateInput {
  product_id: string;
  name?: string;
  terms?: TermsChangeInput;
}

export interface ProductsOptions {
  db: Executor;
  /** Whether a KYC tier code exists (kyc module). */
  knownTier: (code: string) => Promise<boolean>;
  /** The currencies the installation offers wallets in (wallets module's products). */
  walletCurrencies: () => Promise<Set<string>>;
}

export function productView({ product, terms }: ProductWithTerms) {
  return {
    id: product.id,
    code: product.code,
    name: product.name,
    currency: product.currency,
    status: product.status,
    current_version: product.currentVersion,
    terms: termsView(terms),
    created_at: product.createdAt.toISOString(),
    updated_at: product.updatedAt.toISOString(),
  };
}
export type ProductView = ReturnType<typeof productView>;

/** What the principal may see: customers get the terms they apply under, not the risk settings. */
export function productViewFor(view: ProductView, principal: Pick<Principal, 'type'>): ProductView {
  if (principal.type !== 'customer') return view;
  const {
    fraud_threshold: _threshold,
    auto_approve_limit_minor: _auto,
    maker_checker_above_minor: _checker,
    ...terms
  } = view.terms;
  return { ...view, terms };
}

const sameTerms = (left: ProductTerms, right: ProductTerms) =>
  JSON.stringify(termsView(left), (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) ===
  JSON.stringify(termsView(right), (_key, value) => (typeof value === 'bigint' ? value.toString() : value));

export class LoanProductsService {
  readonly #db: Executor;
  readonly #knownTier: ProductsOptions['knownTier'];
  readonly #walletCurrencies: ProductsOptions['walletCurrencies'];

  constructor(options: ProductsOptions) {
    this.#db = options.db;
    this.#knownTier = options.knownTier;
    this.#walletCurrencies = options.walletCurrencies;
  }

  /** The terms of one version of a product (what an application or loan made with it keeps). */
  async version(productId: string, version: number, executor: Executor = this.#db): Promise<ProductTerms> {
    const row = await productVersion(executor, productId, version);
    if (!row) throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
    return row.terms;
  }

  /** The product with its current terms; 404 when there is none. */
  async current(productId: string, executor: Executor = this.#db): Promise<ProductWithTerms> {
    const found = await findProduct(executor, productId);
    if (!found) throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
    return found;
  }

  async get(id: string, principal: Pick<Principal, 'type'>) {
    const found = await findProduct(this.#db, id);
    // Customers see only what they can apply for.
    if (!found || (principal.type === 'customer' && found.product.status !== 'active'))
      throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
    return productViewFor(productView(found), principal);
  }

  async list(
    query: { status?: ProductRow['status']; currency?: string; limit?: number; cursor?: string },
    principal: Pick<Principal, 'type'>,
  ) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await listProducts(
      this.#db,
      {
        status: principal.type === 'customer' ? 'active' : query.status,
        currency: query.currency,
        beforeId: position?.id,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.product.id }));
    return {
      items: page.items.map((row) => productViewFor(productView(row), principal)),
      next_cursor: page.next_cursor,
    };
  }

  async versions(id: string) {
    await this.current(id);
    const rows = await productVersions(this.#db, id);
    return {
      items: rows.map((row) => ({
        version: row.version,
        terms: termsView(row.terms),
        created_by_id: row.createdById,
        created_at: row.createdAt.toISOString(),
      })),
    };
  }

  async add(input: ProductAddInput, context: RequestContext) {
    const terms = termsFromInput(input.terms);
    await this.#check(terms, input.currency);
    const id = uuidv7();
    return inTransaction(this.#db, async (tx) => {
      const inserted = await insertProduct(tx, {
        id,
        code: input.code,
        name: input.name,
        currency: input.currency,
        status: 'active',
        currentVersion: 1,
      });
      if (!inserted) throw loansErrors.LOAN_PRODUCT_EXISTS({ params: { code: input.code } });
      await insertProductVersion(tx, { productId: id, version: 1, terms, createdById: context.actor.id });
      const view = productView((await findProduct(tx, id))!);
      await writeAudit(tx, context, {
        action: 'loan_product.created',
        entityType: 'loan_product',
        entityId: id,
        after: view,
      });
      return view;
    });
  }

  /** Changed terms make a new version (loans and applications keep theirs); a name change alone does not. */
  async update(input: ProductUpdateInput, context: RequestContext) {
    const existing = await this.current(input.product_id);
    const next = input.terms ? termsWithChange(existing.terms, input.terms) : existing.terms;
    if (input.terms) await this.#check(next, existing.product.currency);
    return inTransaction(this.#db, async (tx) => {
      const product = await lockProduct(tx, input.product_id);
      if (!product) throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
      if (product.status === 'retired')
        throw loansErrors.LOAN_PRODUCT_RETIRED({ params: { code: product.code } });
      const before = productView((await findProduct(tx, product.id))!);
      // Re-applied to the terms as they are now (another change may have committed since the check above).
      const current = await this.version(product.id, product.currentVersion, tx);
      const terms = input.terms ? termsWithChange(current, input.terms) : current;
      if (input.terms && !sameTerms(terms, next)) await this.#check(terms, product.currency);
      const changed = !sameTerms(terms, current);
      const version = changed ? product.currentVersion + 1 : product.currentVersion;
      if (changed)
        await insertProductVersion(tx, {
          productId: product.id,
          version,
          terms,
          createdById: context.actor.id,
        });
      await updateProduct(tx, product.id, {
        currentVersion: version,
        ...(input.name !== undefined ? { name: input.name } : {}),
      });
      const view = productView((await findProduct(tx, product.id))!);
      await writeAudit(tx, context, {
        action: changed ? 'loan_product.versioned' : 'loan_product.updated',
        entityType: 'loan_product',
        entityId: product.id,
        before,
        after: view,
      });
      return view;
    });
  }

  async retire(input: { product_id: string; reason?: string }, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const product = await lockProduct(tx, input.product_id);
      if (!product) throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
      if (product.status === 'retired')
        throw loansErrors.LOAN_PRODUCT_RETIRED({ params: { code: product.code } });
      await updateProduct(tx, product.id, { status: 'retired' });
      const view = productView((await findProduct(tx, product.id))!);
      await writeAudit(tx, context, {
        action: 'loan_product.retired',
        entityType: 'loan_product',
        entityId: product.id,
        before: { status: product.status },
        after: { status: 'retired', reason: input.reason ?? null },
      });
      return view;
    });
  }

  async #check(terms: ProductTerms, currency: string): Promise<void> {
    const errors: FieldError[] = [];
    if (!CURRENCIES.has(currency))
      errors.push({ field: 'body.currency', message: `unknown currency ${currency}`, rule: 'currency' });
    else if (!(await this.#walletCurrencies()).has(currency))
      errors.push({
        field: 'body.currency',
        message: `no wallets are offered in ${currency}`,
        rule: 'currency',
      });
    errors.push(...(await termsErrors(terms, this.#knownTier)));
    if (errors.length > 0) throw termsInvalid(errors);
  }
}
