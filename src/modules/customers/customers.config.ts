/** The customers module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { integer, type ModuleConfig, variable } from '../../platform/config-spec.ts';

export const customersConfig = {
  PIN_MAX_FAILURES: variable(
    'Wrong PINs before a customer PIN locks (until staff reset it).',
    '5',
    integer(1, 10),
  ),
  PIN_LOGIN_WINDOW_SECONDS: variable(
    'Window of the customer PIN sign-in velocity limits, in seconds.',
    '300',
    integer(10, 86400),
  ),
  PIN_LOGIN_MAX_FAILURES_PER_IP: variable(
    'Failed customer PIN sign-ins one IP address may make per window before 429 (right PINs do not count, so many customers behind one carrier NAT are not locked out).',
    '30',
    integer(1, 100000),
  ),
  PIN_LOGIN_MAX_FAILURES_PER_DEVICE: variable(
    'Failed customer PIN sign-ins one device (`device_id`) may make per window before 429.',
    '10',
    integer(1, 100000),
  ),
};

/** The PIN lock and the PIN sign-in velocity limits. */
export type PinSettings = ModuleConfig<typeof customersConfig>;
