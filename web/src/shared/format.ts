// Formatting of FHIR data for people: names, ages, dates, quantities, codeable concepts.
import type { CodeableConcept, Coding, HumanName, Identifier, Quantity, Reference } from '@medplum/fhirtypes';

export function formatName(names: HumanName[] | undefined, style: 'full' | 'family-first' = 'full'): string {
  if (!names?.length) return 'Unnamed';
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use !== 'old') ?? names[0];
  if (n.text && !n.given && !n.family) return n.text;
  const given = (n.given ?? []).join(' ');
  const family = n.family ?? '';
  if (style === 'family-first') return [family, given].filter(Boolean).join(', ') || n.text || 'Unnamed';
  return [(n.prefix ?? []).join(' '), given, family].filter(Boolean).join(' ') || n.text || 'Unnamed';
}

/** Whole years between a birth date and `now` ("2 mo" / "10 d" under a year). */
export function formatAge(birthDate: string | undefined, now: Date = new Date()): string {
  if (!birthDate) return 'age unknown';
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number);
  let years = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) years--;
  if (years >= 2) return `${years} y`;
  const months = (now.getFullYear() - y) * 12 + (now.getMonth() + 1 - m) - (now.getDate() < d ? 1 : 0);
  if (months >= 1) return `${months} mo`;
  const days = Math.floor((now.getTime() - new Date(y, m - 1, d).getTime()) / 86_400_000);
  return `${Math.max(days, 0)} d`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "17 Apr 1962"; partial dates keep their precision ("Apr 1962", "1962"). */
export function formatDate(value: string | undefined): string {
  if (!value) return '—';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!m) return value;
  const [, y, mo, d] = m;
  if (!mo) return y;
  if (!d) return `${MONTHS[Number(mo) - 1]} ${y}`;
  return `${Number(d)} ${MONTHS[Number(mo) - 1]} ${y}`;
}

/** "17 Apr 2026 14:05" in the browser's time zone; date-only values stay dates. */
export function formatDateTime(value: string | undefined): string {
  if (!value) return '—';
  if (!value.includes('T')) return formatDate(value);
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) return value;
  const hh = String(t.getHours()).padStart(2, '0');
  const mm = String(t.getMinutes()).padStart(2, '0');
  return `${t.getDate()} ${MONTHS[t.getMonth()]} ${t.getFullYear()} ${hh}:${mm}`;
}

export function formatTime(value: string | undefined): string {
  if (!value) return '—';
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) return value;
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** Rounds to at most `digits` decimals without trailing zeros. */
export function formatNumber(v: number, digits = 2): string {
  return String(Number(v.toFixed(digits)));
}

// UCUM codes that read badly as they are.
const UNIT_DISPLAY: Record<string, string> = { Cel: '°C', '[degF]': '°F', 'mm[Hg]': 'mmHg', '/min': '/min', '{beats}/min': '/min' };

export function formatQuantity(q: Quantity | undefined): string {
  if (!q || q.value === undefined) return '—';
  const unit = UNIT_DISPLAY[q.unit ?? q.code ?? ''] ?? q.unit ?? q.code ?? '';
  const comparator = q.comparator ?? '';
  return `${comparator}${formatNumber(q.value)}${unit ? (unit === '%' ? '%' : ' ' + unit) : ''}`;
}

export function codingText(c: Coding | undefined): string {
  return c?.display ?? c?.code ?? '';
}

export function formatCodeable(cc: CodeableConcept | undefined): string {
  if (!cc) return '—';
  return cc.text ?? cc.coding?.find((c) => c.display)?.display ?? cc.coding?.[0]?.code ?? '—';
}

export function hasCode(cc: CodeableConcept | undefined, system: string | undefined, code: string): boolean {
  return !!cc?.coding?.some((c) => c.code === code && (!system || c.system === system));
}

export function formatReference(r: Reference | undefined): string {
  return r?.display ?? r?.reference ?? '—';
}

export const MRN_TYPE = 'MR';

/** The medical record number: identifier of type MR, else the first identifier. */
export function mrnOf(identifiers: Identifier[] | undefined): string | undefined {
  const mr = identifiers?.find((i) => i.type?.coding?.some((c) => c.code === MRN_TYPE));
  return (mr ?? identifiers?.[0])?.value;
}

export function formatSex(gender: string | undefined): string {
  switch (gender) {
    case 'female':
      return 'Female';
    case 'male':
      return 'Male';
    case 'other':
      return 'Other';
    default:
      return 'Unknown sex';
  }
}

/** "2 h 05 min" for a duration in ms (used by the emergency-access timer). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}
