/**
 * Builds the geo area (the LocationGuard every operator money action passes, and the shifts and staff reads around
 * it) and declares its routes. index.ts calls these between its `area: geo` markers.
 */
import type { ModuleContext } from '../../platform/modules.ts';
import { type GeoConfigValues, geoSettings } from './agents.location.config.ts';
import { agentLocationRoutes } from './agents.location.routes.ts';
import { AgentShifts } from './agents.location.shifts.ts';
import { LocationGuardService } from './agents.location.ts';
import type { AgentDirectory, OperatorScopes } from './agents.ports.ts';

export { geoConfig } from './agents.location.config.ts';

export interface GeoArea {
  /** The LocationGuard (check, linkTransaction) and violationRate for performance. */
  geo: LocationGuardService;
  /** Check-in/out and the staff's alerts and location checks. */
  shifts: AgentShifts;
}

export function buildGeo(ctx: ModuleContext, directory: AgentDirectory, scopes: OperatorScopes): GeoArea {
  const db = ctx.deps.database.db;
  const geo = new LocationGuardService({
    db,
    directory,
    settings: geoSettings(ctx.config as unknown as GeoConfigValues),
  });
  return { geo, shifts: new AgentShifts({ db, guard: geo, directory, scopes }) };
}

export function geoAreaRoutes(api: { shifts: AgentShifts }) {
  return agentLocationRoutes(api.shifts);
}
