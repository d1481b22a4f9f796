import type { InviteRow } from '../models/tenancy/invites.repository.js';
import { formatDateTime } from './present.js';

/** A registration link as its makers see it: when, their note, and what became of it. */
export function presentInvite(invite: InviteRow, now = new Date()): { createdAt: string; note: string; status: string } {
  let status: string;
  if (invite.outcome) status = invite.outcome;
  else if (invite.usedAt) status = `Used ${formatDateTime(invite.usedAt)}`;
  else if (invite.expiresAt <= now) status = 'Expired unused';
  else status = `Unused, valid until ${formatDateTime(invite.expiresAt)}`;
  return { createdAt: formatDateTime(invite.createdAt), note: invite.note ?? '', status };
}
