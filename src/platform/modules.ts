/**
 * The module contract. Every module's `index.ts` exports one `defineModule({...})` value; the composition root
 * (`src/modules.ts` lists them) builds each module's API in dependency order, then mounts routes, defines jobs, seeds
 * and wires the contributions (approval actions, principal resolvers, event subscriptions, health checks) that one
 * module makes to another. Start-up fails with a clear message on a missing dependency, a cycle, or a duplicate name,
 * permission, topic or job. See docs/modules.md.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RequestContext } from './audit.ts';
import type { ConfigSpec, ModuleConfig } from './config-spec.ts';
import type { Executor } from './db.ts';
import type { Dependencies } from './dependencies.ts';
import type { ErrorCatalogue } from './error-catalogue.ts';
import { type Subscription, type Topic, TopicRegistry } from './events.ts';
import type { JobDefinition } from './jobs.ts';
import { otpRequested } from './otp.ts';
import { EventBus } from './outbox-dispatcher.ts';
import {
  isTransactionTypeName,
  TRANSACTION_TYPE_PATTERN,
  type TransactionTypeEntry,
  TransactionTypes,
  transactionTypeDeclaration,
} from './transaction-types.ts';

/** Declares one approval action with its payload type (the list of a module's actions mixes payload types). */
export function approvalAction<P extends object>(
  action: ApprovalActionDeclaration<P>,
): ApprovalActionDeclaration<never> {
  return action as unknown as ApprovalActionDeclaration<never>;
}

/** What a module's functions receive: the process's dependencies, its own config, and the APIs it depends on. */
export interface ModuleContext<C extends ConfigSpec = ConfigSpec> {
  readonly deps: Dependencies;
  /** This module's own variables (declared in its `config`), parsed and validated with the rest at start-up. */
  readonly config: ModuleConfig<C>;
  /** The API of a module named in `dependsOn` (anything else throws: the graph is declared, not discovered). */
  use<Api>(module: ModuleDefinition<Api>): Api;
  /**
   * The process's event bus: each module's `subscribes` become the handlers of its own consumer (named after it), so
   * a module needs it only for operator actions on its consumer (replay, dead letters) or to drive it in tests.
   */
  readonly events: EventBus;
  /** Every transaction type the composed modules declare (`transactionTypes`), whichever module declared it. */
  readonly transactionTypes: TransactionTypes;
}

/** What a module's seed receives: no other module is built yet. */
export interface SeedContext<C extends ConfigSpec = ConfigSpec> {
  readonly deps: Dependencies;
  readonly config: ModuleConfig<C>;
}

/** A permission a module's routes require, seeded into the permission catalogue. */
export interface PermissionDeclaration {
  readonly code: string;
  readonly description: string;
}

/** An action held for a second staff member (maker-checker); executed by the approvals module once approved. */
export interface ApprovalActionDeclaration<P extends object = object> {
  readonly name: string;
  readonly description: string;
  /** A checker needs `approval:decide` and this permission (they must be allowed to do the thing themselves). */
  readonly permission: string;
  /** Always needs a checker whatever `approvals.required_actions` says. */
  readonly always?: boolean;
  /** What makes two requests the same; one open request per key (409 APPROVAL_ALREADY_PENDING otherwise). */
  dedupeKey(payload: P): string;
  execute(payload: P, context: RequestContext): Promise<unknown>;
}

/** What the access guard needs to know of a signed-in principal on each request. */
export interface PrincipalAccess {
  active: boolean;
  roles: string[];
  permissions: string[];
}
export type PrincipalResolver = (id: string) => Promise<PrincipalAccess | null>;

/**
 * A readiness check: resolves when healthy, throws (or times out) otherwise. A plain function is critical: when it
 * fails, `/health/ready` answers 503 and a load balancer takes the node out. An external provider the node can serve
 * without (a credit bureau, a screening service) is declared `{ probe, critical: false }`: when it fails the node
 * stays ready and the answer says `degraded` with the check `down`. A probe may resolve `'not_configured'` (a
 * provider left unset on purpose), which never fails readiness.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: the probes modules already declare resolve void
export type HealthProbe = () => Promise<void | 'not_configured'>;
export type HealthCheck = HealthProbe | { readonly probe: HealthProbe; readonly critical: false };

/** A scheduled housekeeping task: run by the worker on a cron schedule (UTC); must be idempotent. */
export interface ScheduledTask {
  readonly name: string;
  readonly schedule: string;
  run(db: Executor): Promise<unknown>;
}

/** A background job: a queue (with its handler) or a scheduled task. */
export type ModuleJob = JobDefinition<{ id: string }> | JobDefinition<object> | ScheduledTask;

/** A loop the worker process runs beside the queues. */
export interface BackgroundLoop {
  start(): void;
  stop(): Promise<void>;
}

export interface ModuleDefinition<Api = unknown, C extends ConfigSpec = ConfigSpec> {
  /** Lower-case, unique; the Fastify plugin name and the prefix of the module's jobs. */
  readonly name: string;
  /** One line: what the module does (docs/architecture.md). */
  readonly description: string;
  /** The modules whose APIs this one calls (`ctx.use`); they are built and mounted first. */
  readonly dependsOn: readonly string[];
  /** Its part of the environment: variables declared with the helpers of `platform/config-spec.ts`. */
  readonly config?: C;
  /** Its closed set of error codes (`defineErrors` in its `*.errors.ts`). */
  readonly errors?: ErrorCatalogue;
  /** The Drizzle tables it owns (no other module may import them; the boundary test checks). */
  readonly tables?: Readonly<Record<string, unknown>>;
  /** Permissions its routes require. */
  readonly permissions?: readonly PermissionDeclaration[];
  /** Event topics it publishes (`defineTopic` in its `*.events.ts`, with their payload schemas). */
  readonly publishes?: readonly Topic[];
  /**
   * Payment modules: the transaction types they record (`'cash_in'`, or `{ type: 'p2p', label: 'Transfer' }` when
   * the receipt label is not the name's words). Each type has one declaring module; the payment engine refuses a
   * plan of a type no module declared.
   */
  readonly transactionTypes?: readonly TransactionTypeEntry[];
  /** Builds the module's API: the services other modules reach through `ctx.use`. */
  create(ctx: ModuleContext<C>): Api | Promise<Api>;
  /** Fastify plugins with its routes (one per entity when there are many); mounted in dependency order. */
  routes?(api: Api, ctx: ModuleContext<C>): FastifyPluginAsync | readonly FastifyPluginAsync[];
  /** Queues and schedules; defined in every process (the API enqueues, the worker consumes). */
  jobs?(api: Api, ctx: ModuleContext<C>): readonly ModuleJob[];
  /**
   * Reference data every installation needs; idempotent (runs after each migration, before any module is built, so
   * it gets the dependencies and its config only).
   */
  seed?(ctx: SeedContext<C>): Promise<void>;
  /** Actions it puts under maker-checker. */
  approvalActions?(api: Api, ctx: ModuleContext<C>): readonly ApprovalActionDeclaration<never>[];
  /** Kinds of principal it adds (customers, agents), keyed by the principal type. */
  principalResolvers?(api: Api, ctx: ModuleContext<C>): Readonly<Record<string, PrincipalResolver>>;
  /**
   * Its event handlers (`on(topic, handler)`), run by this module's own consumer: its own queue, retries and dead
   * letters, so its failures or backlog hold up no other consumer. A topic no module publishes stops start-up.
   */
  subscribes?(api: Api, ctx: ModuleContext<C>): readonly Subscription[];
  /** Checks that feed `/health/ready`, by name. */
  health?(api: Api, ctx: ModuleContext<C>): Readonly<Record<string, HealthCheck>>;
  /**
   * Hooks that must see every request (the access guard, access policies), registered on the root instance before
   * any module's routes. Most modules have none: routes are encapsulated plugins.
   */
  guards?(api: Api, app: FastifyInstance, ctx: ModuleContext<C>): void | Promise<void>;
  /** Loops that are not queue jobs (an event consumer): started only in a process that runs the worker. */
  background?(api: Api, ctx: ModuleContext<C>): readonly BackgroundLoop[];
  /** Releases what `create` started (subscriptions, timers) when the process stops. */
  close?(api: Api): Promise<void>;
}

/** Declares a module (the identity function, for inference: `Api` is what `create` returns). */
export function defineModule<Api, C extends ConfigSpec = ConfigSpec>(
  definition: ModuleDefinition<Api, C>,
): ModuleDefinition<Api, C> {
  return definition;
}

export type ApiOf<M> = M extends ModuleDefinition<infer Api, infer _C> ? Api : never;

export class ModuleGraphError extends Error {
  override name = 'ModuleGraphError';
}

type AnyModule = ModuleDefinition<unknown, ConfigSpec>;

/**
 * The modules in dependency order (each after everything it depends on; ties keep the list's order), or a
 * ModuleGraphError naming a duplicate name, a dependency that is not in the list, or a cycle (with its path).
 */
export function orderModules(modules: readonly AnyModule[]): AnyModule[] {
  const byName = new Map<string, AnyModule>();
  for (const module of modules) {
    if (!/^[a-z][a-z0-9-]*$/.test(module.name))
      throw new ModuleGraphError(
        `module name "${module.name}" must be lower-case letters, digits and dashes`,
      );
    if (byName.has(module.name)) throw new ModuleGraphError(`module "${module.name}" is listed twice`);
    byName.set(module.name, module);
  }
  for (const module of modules) {
    for (const dependency of module.dependsOn) {
      if (dependency === module.name) throw new ModuleGraphError(`module "${module.name}" depends on itself`);
      if (!byName.has(dependency))
        throw new ModuleGraphError(
          `module "${module.name}" depends on "${dependency}", which is not in the module list (src/modules.ts)`,
        );
    }
  }
  const ordered: AnyModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (module: AnyModule, path: string[]) => {
    const seen = state.get(module.name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...path.slice(path.indexOf(module.name)), module.name];
      throw new ModuleGraphError(`modules depend on each other in a cycle: ${cycle.join(' -> ')}`);
    }
    state.set(module.name, 'visiting');
    for (const dependency of module.dependsOn) visit(byName.get(dependency)!, [...path, module.name]);
    state.set(module.name, 'done');
    ordered.push(module);
  };
  for (const module of modules) visit(module, []);
  return ordered;
}

/**
 * Throws when two modules declare the same permission code, topic, transaction type or error code, or a transaction
 * type's name is not lower-case words joined by underscores.
 */
export function checkDeclarations(modules: readonly AnyModule[]): void {
  const owners = {
    permission: new Map<string, string>(),
    topic: new Map<string, string>(),
    'transaction type': new Map<string, string>(),
    'error code': new Map<string, string>(),
  };
  const claim = (kind: keyof typeof owners, key: string, module: string) => {
    const owner = owners[kind].get(key);
    if (owner !== undefined)
      throw new ModuleGraphError(
        `${kind} "${key}" is declared by both "${owner}" and "${module}"${owner === module ? ' (twice)' : ''}`,
      );
    owners[kind].set(key, module);
  };
  for (const module of modules) {
    for (const permission of module.permissions ?? []) claim('permission', permission.code, module.name);
    for (const topic of module.publishes ?? []) claim('topic', topic.name, module.name);
    for (const entry of module.transactionTypes ?? []) {
      const { type } = transactionTypeDeclaration(entry);
      if (!isTransactionTypeName(type))
        throw new ModuleGraphError(
          `transaction type "${type}" of module "${module.name}" must match ${TRANSACTION_TYPE_PATTERN}`,
        );
      claim('transaction type', type, module.name);
    }
    for (const code of Object.keys(module.errors?.definitions ?? {})) claim('error code', code, module.name);
  }
}

/** The running set of modules: each one's API, built once per process. */
export class ModuleSystem {
  readonly ordered: readonly AnyModule[];
  readonly deps: Dependencies;
  /** The event bus every module's consumer is subscribed on; a `background` loop of the worker process. */
  readonly events: EventBus;
  readonly #apis = new Map<string, unknown>();
  readonly #contexts = new Map<string, ModuleContext>();

  private constructor(deps: Dependencies, ordered: AnyModule[], events: EventBus) {
    this.deps = deps;
    this.ordered = ordered;
    this.events = events;
  }

  /** Orders and checks the modules, then builds each one's API in dependency order. */
  static async compose(
    deps: Dependencies,
    modules: readonly AnyModule[],
    parseConfig: (module: AnyModule) => Record<string, unknown>,
  ): Promise<ModuleSystem> {
    const ordered = orderModules(modules);
    checkDeclarations(ordered);
    // The platform publishes one-time codes (platform/otp.ts); modules publish the rest.
    const topics = new TopicRegistry().register('platform', [otpRequested]);
    for (const module of ordered) topics.register(module.name, module.publishes ?? []);
    const system = new ModuleSystem(deps, ordered, new EventBus(deps.database.db, { topics }));
    const transactionTypes = new TransactionTypes(ordered);
    for (const module of ordered) {
      const declared = new Set(module.dependsOn);
      const context: ModuleContext = {
        deps,
        events: system.events,
        transactionTypes,
        config: parseConfig(module) as ModuleConfig<ConfigSpec>,
        use: <Api>(other: ModuleDefinition<Api>): Api => {
          if (!declared.has(other.name))
            throw new ModuleGraphError(
              `module "${module.name}" uses "${other.name}" without declaring it in dependsOn`,
            );
          return system.api(other);
        },
      };
      system.#contexts.set(module.name, context);
      system.#apis.set(module.name, await module.create(context));
    }
    // Each module's handlers become its own consumer; a topic no module publishes throws here.
    for (const module of ordered)
      for (const subscription of module.subscribes?.(system.#apis.get(module.name), system.context(module)) ??
        [])
        system.events.subscribe(module.name, subscription.topic, subscription.handler);
    return system;
  }

  /** A module's API (it must be part of this system). */
  api<Api>(module: ModuleDefinition<Api>): Api {
    if (!this.#apis.has(module.name)) throw new ModuleGraphError(`module "${module.name}" is not composed`);
    return this.#apis.get(module.name) as Api;
  }

  /** The context a module's functions are called with. */
  context(module: AnyModule): ModuleContext {
    const context = this.#contexts.get(module.name);
    if (!context) throw new ModuleGraphError(`module "${module.name}" is not composed`);
    return context;
  }

  /** Stops every module (reverse dependency order); a failure of one does not keep the others running. */
  async close(): Promise<void> {
    for (const module of [...this.ordered].reverse()) {
      await module.close?.(this.#apis.get(module.name))?.catch(() => {});
    }
  }

  /** Calls `pick` on every module that declares the contribution, in dependency order. */
  collect<T>(
    pick: (module: AnyModule, api: unknown, context: ModuleContext) => T | undefined,
  ): { module: string; value: T }[] {
    const found: { module: string; value: T }[] = [];
    for (const module of this.ordered) {
      const value = pick(module, this.#apis.get(module.name), this.#contexts.get(module.name)!);
      if (value !== undefined) found.push({ module: module.name, value });
    }
    return found;
  }
}
