/**
 * How a principal is reached, for the modules that send them messages (notifications): a staff user's email and
 * phone, the registered devices that can be pushed to, and the command that forgets a push token the provider
 * refused. Each takes the executor it runs on, so a caller's transaction includes it.
 */
import { and, eq, isNotNull, isNull, ne } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { PrincipalType } from '../../platform/http.ts';
import { registeredDevices, users } from './identity.tables.ts';

/** A staff user's email and phone; undefined when there is no such user. */
export async function userContact(
  db: Executor,
  userId: string,
): Promise<{ email: string; phone: string | null } | undefined> {
  const [user] = await db
    .select({ email: users.email, phone: users.phone })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  return user;
}

/** Ids of the principal's devices that a push reaches: not revoked, with a push token. */
export async function pushableDevices(
  db: Executor,
  principal: { type: PrincipalType; id: string },
): Promise<string[]> {
  const devices = await db
    .select({ id: registeredDevices.id })
    .from(registeredDevices)
    .where(
      and(
        eq(registeredDevices.principalType, principal.type),
        eq(registeredDevices.principalId, principal.id),
        isNull(registeredDevices.revokedAt),
        isNotNull(registeredDevices.pushToken),
        ne(registeredDevices.pushToken, ''),
      ),
    );
  return devices.map((device) => device.id);
}

/** The push token of a registered device; null when the device is unknown, revoked or has no token. */
export async function devicePushToken(db: Executor, deviceId: string): Promise<string | null> {
  const [device] = await db
    .select({ token: registeredDevices.pushToken, revokedAt: registeredDevices.revokedAt })
    .from(registeredDevices)
    .where(eq(registeredDevices.id, deviceId))
    .limit(1);
  if (!device?.token || device.revokedAt) return null;
  return device.token;
}

/**
 * Forgets a device's push token because the push provider no longer knows it (FCM's UNREGISTERED): the device stays
 * registered, and is pushed to again once the app registers it with a new token.
 */
export async function forgetPushToken(tx: Executor, deviceId: string, at = new Date()): Promise<void> {
  await tx
    .update(registeredDevices)
    .set({ pushToken: null, updatedAt: at })
    .where(eq(registeredDevices.id, deviceId));
}
