/**
 * Deciding AML cases: false positive (four-eyes when the customer's risk band is at or above
 * `aml.false_positive_four_eyes_band`: the first analyst proposes, a different one confirms), monitor, restrict
 * (freezes the customer's active wallets through the wallets module, then closes; lifting it is the
 * `aml.unfreeze_customer` maker-checker action) and file STR (the reports area's ReportWriter writes the goAML STR in
 * the same transaction as the close). A decision needs a case being investigated or escalated.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { amlCaseClosed } from './aml.cases.events.ts';
import { type CaseRow, findCase, insertCaseEvent, lastEventOf, updateCase } from './aml.cases.repository.ts';
import { actOnCase, caseErrors } from './aml.cases.ts';
import type { ReportWriter, RiskReader } from './aml.ports.ts';
import { type CaseDecision, RISK_BANDS, type RiskBand } from './aml.tables.ts';

export const UNFREEZE_ACTION = 'aml.unfreeze_customer';
export interface UnfreezePayload {
  case_id: string;
}

/** What a customer sees on a frozen wallet (its `status_reason`): nothing of AML (tipping-off). */
export const RESTRICTED_REASON = 'Restricted: please contact customer care';
const LIFTED_REASON = 'Restriction lifted';

export interface DecisionPorts {
  reports: ReportWriter;
  /**
   * The risk area's reader (built after the cases area: connected later). Until one is connected a customer's band
   * is unknown and a false positive takes the four-eyes path, the safe side.
   */
  risk: RiskReader | null;
}

export interface DecisionDeps {
  db: Executor;
  settings: SettingsService;
  wallets: WalletsService;
  approvals: ApprovalService;
}

const bandRank = (band: RiskBand) => RISK_BANDS.indexOf(band);

export class CaseDecisions {
  readonly #deps: DecisionDeps;
  #ports: DecisionPorts;

  constructor(deps: DecisionDeps, ports: DecisionPorts) {
    this.#deps = deps;
    this.#ports = ports;
  }

  /** Replaces ports built after the cases area (the risk area's RiskReader) or, in tests, a real in-test one. */
  connect(ports: Partial<DecisionPorts>): void {
    this.#ports = { ...this.#ports, ...ports };
  }

  /** The customer's band (never rated: low); unknown while no RiskReader is connected: high. */
  async #band(row: CaseRow): Promise<RiskBand> {
    if (!row.customerId) return 'low';
    if (!this.#ports.risk) return 'high';
    return (await this.#ports.risk.ratingOf(row.customerId))?.band ?? 'low';
  }

  async decide(
    id: string,
    input: { decision: CaseDecision; reason: string },
    principal: Principal,
    context: RequestContext,
  ) {
    const found = await findCase(this.#deps.db, id);
    if (!found) throw caseErrors.notFound();
    assertDecidable(found);
    const band = await this.#band(found);
    const fourEyes =
      input.decision === 'false_positive' &&
      bandRank(band) >= bandRank(await this.#deps.settings.get('aml.false_positive_four_eyes_band'));
    // Freezing is the wallets module's own transaction per wallet, so it runs first: a close that fails after it
    // leaves the customer restricted (the safe side) and the decision can be given again.
    const frozen = input.decision === 'restrict' ? await this.#freeze(found, principal, context) : [];
    const actor = context.actor.id!;
    return actOnCase(this.#deps.db, id, context, 'decided', async (tx, row) => {
      assertDecidable(row);
      if (fourEyes && row.pendingCloseBy === actor) throw caseErrors.sameAnalyst();
      if (fourEyes && !row.pendingCloseBy) {
        const proposed = await updateCase(tx, row.id, { pendingCloseBy: actor, riskBand: band });
        return {
          row: proposed,
          action: 'close_proposed',
          detail: { decision: input.decision, reason: input.reason, risk_band: band },
        };
      }
      const detail: Record<string, unknown> = {
        decision: input.decision,
        reason: input.reason,
        risk_band: band,
        ...(fourEyes ? { proposed_by: row.pendingCloseBy, confirmed_by: actor } : {}),
      };
      if (input.decision === 'restrict') {
        await insertCaseEvent(tx, row.id, actor, 'restricted', { wallet_ids: frozen });
        detail.wallet_ids = frozen;
      }
      if (input.decision === 'file_str')
        detail.report_id = await this.#ports.reports.strForCase(tx, row.id, context);
      const closed = await this.#close(tx, row, input.decision, band, actor);
      return { row: closed, detail };
    });
  }

  async #close(tx: Executor, row: CaseRow, decision: CaseDecision, band: RiskBand, actor: string) {
    const closed = await updateCase(tx, row.id, {
      state: 'closed',
      decision,
      riskBand: band,
      pendingCloseBy: null,
      snoozedUntil: null,
      closedBy: actor,
      closedAt: new Date(),
    });
    await emitEvent(
      tx,
      amlCaseClosed,
      { type: 'aml_case', id: row.id },
      {
        case_id: row.id,
        customer_id: row.customerId,
        agent_id: row.agentId,
        pattern: row.pattern,
        priority: row.priority,
        decision,
      },
    );
    return closed;
  }

  /** Freezes the customer's active wallets (each through the wallets module); the ids it froze. */
  async #freeze(row: CaseRow, principal: Principal, context: RequestContext): Promise<string[]> {
    if (!row.customerId) throw caseErrors.noCustomer();
    const frozen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#deps.wallets.list(
        { customer_id: row.customerId, status: 'active', limit: 100, ...(cursor ? { cursor } : {}) },
        principal,
      );
      for (const wallet of page.items) {
        await this.#deps.wallets.setStatus(wallet.id, 'frozen', RESTRICTED_REASON, context);
        frozen.push(wallet.id);
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return frozen;
  }

  /** Asks for the restriction to be lifted: a second staff member with `aml:decide` approves (always). */
  async requestUnfreeze(id: string, context: RequestContext) {
    const row = await findCase(this.#deps.db, id);
    if (!row) throw caseErrors.notFound();
    await this.#stillFrozen(this.#deps.db, row);
    const outcome = await this.#deps.approvals.run<UnfreezePayload, unknown>(
      UNFREEZE_ACTION,
      { case_id: id },
      // The approvals queue is read by staff without AML rights: the summary says nothing of the case.
      {
        summary: 'Unfreeze a restricted customer’s wallets',
        entityType: 'customer',
        entityId: row.customerId!,
      },
      context,
      { always: true },
    );
    if (outcome.kind !== 'pending') throw new Error(`${UNFREEZE_ACTION} ran without a checker`);
    return outcome.request;
  }

  /** The approved unfreeze (run by the approvals module as the checker): the wallets this case froze. */
  async executeUnfreeze(payload: UnfreezePayload, context: RequestContext) {
    const row = await findCase(this.#deps.db, payload.case_id);
    if (!row) throw caseErrors.notFound();
    const walletIds = await this.#stillFrozen(this.#deps.db, row);
    const unfrozen: string[] = [];
    for (const walletId of walletIds) {
      const wallet = await this.#deps.wallets.row(walletId);
      if (wallet.status !== 'frozen') continue;
      await this.#deps.wallets.setStatus(walletId, 'active', LIFTED_REASON, context);
      unfrozen.push(walletId);
    }
    return actOnCase(this.#deps.db, row.id, context, 'unfrozen', async (_tx, locked) => ({
      row: locked,
      detail: { wallet_ids: unfrozen },
    }));
  }

  /** The wallet ids the case's restriction froze, when it was restricted and not lifted yet. */
  async #stillFrozen(db: Executor, row: CaseRow): Promise<string[]> {
    if (row.decision !== 'restrict') throw caseErrors.notRestricted();
    const restricted = await lastEventOf(db, row.id, 'restricted');
    const lifted = await lastEventOf(db, row.id, 'unfrozen');
    if (!restricted || (lifted && lifted.at >= restricted.at)) throw caseErrors.notRestricted();
    return (restricted.detail.wallet_ids as string[] | undefined) ?? [];
  }
}

function assertDecidable(row: CaseRow): void {
  if (row.state !== 'investigating' && row.state !== 'escalated') throw caseErrors.state('decide', row.state);
}
