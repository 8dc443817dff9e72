/** The location guard's environment variables (the agents module's `config`, geo area). */
import { integer, variable } from '../../platform/config-spec.ts';

export const geoConfig = {
  AGENT_GEO_MAX_FIX_AGE_SECONDS: variable(
    'Oldest location fix (seconds) an agent operator’s action may carry: an older one (or one more than 30 s in the future) is a stale fix, refused or flagged by the agent’s geofence policy.',
    '120',
    integer(10, 3600),
  ),
  AGENT_GEO_ACCURACY_TOLERANCE_MAX_M: variable(
    'Largest benefit of the doubt (metres) the reported accuracy gives: a fix is inside when its distance from the fence’s edge is at most its accuracy, capped at this.',
    '100',
    integer(0, 1000),
  ),
  AGENT_GEO_ACCURACY_MIN_M: variable(
    'A reported accuracy below this (metres) is implausible for a phone and recorded as a spoofing signal.',
    '1',
    integer(0, 100),
  ),
  AGENT_GEO_ACCURACY_MAX_M: variable(
    'A reported accuracy above this (metres) is implausible (or useless) and recorded as a spoofing signal.',
    '500',
    integer(10, 100000),
  ),
  AGENT_GEO_MAX_SPEED_KMH: variable(
    'Fastest plausible move (km/h) between an operator’s consecutive location fixes; faster is the impossible_speed spoofing signal.',
    '200',
    integer(10, 2000),
  ),
  AGENT_GEO_VIOLATION_ALERT_COUNT: variable(
    'Geofence violations (outside or stale) by one operator within the window that raise a geofence_repeated alert for staff.',
    '3',
    integer(1, 1000),
  ),
  AGENT_GEO_VIOLATION_WINDOW_MINUTES: variable(
    'The window (minutes) in which AGENT_GEO_VIOLATION_ALERT_COUNT violations raise an alert.',
    '60',
    integer(1, 10080),
  ),
  AGENT_GEO_ALERT_COOLDOWN_MINUTES: variable(
    'At most one alert of each kind (spoofing, geofence_repeated) per operator within this many minutes.',
    '60',
    integer(1, 10080),
  ),
};

/** The parsed values (ctx.config of the agents module holds them among the other areas'). */
export interface GeoConfigValues {
  readonly AGENT_GEO_MAX_FIX_AGE_SECONDS: number;
  readonly AGENT_GEO_ACCURACY_TOLERANCE_MAX_M: number;
  readonly AGENT_GEO_ACCURACY_MIN_M: number;
  readonly AGENT_GEO_ACCURACY_MAX_M: number;
  readonly AGENT_GEO_MAX_SPEED_KMH: number;
  readonly AGENT_GEO_VIOLATION_ALERT_COUNT: number;
  readonly AGENT_GEO_VIOLATION_WINDOW_MINUTES: number;
  readonly AGENT_GEO_ALERT_COOLDOWN_MINUTES: number;
}

/** The guard's settings in the units it works in. */
export interface GeoSettings {
  maxFixAgeMs: number;
  toleranceMaxM: number;
  accuracyMinM: number;
  accuracyMaxM: number;
  maxSpeedKmh: number;
  violationAlertCount: number;
  violationWindowMs: number;
  alertCooldownMs: number;
}

export function geoSettings(values: GeoConfigValues): GeoSettings {
  return {
    maxFixAgeMs: values.AGENT_GEO_MAX_FIX_AGE_SECONDS * 1000,
    toleranceMaxM: values.AGENT_GEO_ACCURACY_TOLERANCE_MAX_M,
    accuracyMinM: values.AGENT_GEO_ACCURACY_MIN_M,
    accuracyMaxM: values.AGENT_GEO_ACCURACY_MAX_M,
    maxSpeedKmh: values.AGENT_GEO_MAX_SPEED_KMH,
    violationAlertCount: values.AGENT_GEO_VIOLATION_ALERT_COUNT,
    violationWindowMs: values.AGENT_GEO_VIOLATION_WINDOW_MINUTES * 60_000,
    alertCooldownMs: values.AGENT_GEO_ALERT_COOLDOWN_MINUTES * 60_000,
  };
}

/** The defaults (tests and a guard built without the module's config). */
export const DEFAULT_GEO_SETTINGS: GeoSettings = {
  maxFixAgeMs: 120_000,
  toleranceMaxM: 100,
  accuracyMinM: 1,
  accuracyMaxM: 500,
  maxSpeedKmh: 200,
  violationAlertCount: 3,
  violationWindowMs: 3_600_000,
  alertCooldownMs: 3_600_000,
};
