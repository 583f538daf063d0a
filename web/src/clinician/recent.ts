// Recently opened charts, per user, in this browser. Only resource ids are kept (names and all
// clinical data are fetched through the API, under the access policy, every time).
const key = (user: string) => `carechart.recent.${user}`;

export function recentPatientIds(user: string): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(key(user)) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberPatient(user: string, id: string): void {
  const list = [id, ...recentPatientIds(user).filter((x) => x !== id)];
  localStorage.setItem(key(user), JSON.stringify(list.slice(0, 10)));
}
