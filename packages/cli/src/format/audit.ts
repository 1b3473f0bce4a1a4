/** The view of the audit log (`wharf audit`): who changed what, when, from where, and the outcome. */
import type { AuditRecord } from '@wharf/types';
import { age } from './age.js';
import { cell, renderTable } from './table.js';

export const AUDIT_COLUMNS = ['TIME', 'ACTOR', 'ACTION', 'OBJECT', 'STATUS', 'FROM'] as const;

/** `200`, or `403 QUOTA_EXCEEDED` for a failed change with an error code. */
export function auditStatus(r: Pick<AuditRecord, 'status' | 'error'>): string {
  return r.error ? `${r.status} ${r.error}` : String(r.status);
}

/** Oldest first, as the server answers; TIME is the record's age. */
export function renderAudit(records: AuditRecord[], now: number): string {
  return renderTable(AUDIT_COLUMNS, records.map((r) => [age(r.time, now), cell(r.actor), r.action, cell(r.object), auditStatus(r), cell(r.sourceIp)]));
}
