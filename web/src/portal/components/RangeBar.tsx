// A value on a bar whose shaded middle is the normal range; the position is also said in words.
import type { Observation } from '@medplum/fhirtypes';
import { Level, levelOf, levelText, rangeBar, rangeText } from '../lib/plain';

const COLOR: Record<Level, string> = {
  normal: '#2b8a3e',
  low: '#b35c00',
  high: '#b35c00',
  'critical-low': '#c92a2a',
  'critical-high': '#c92a2a',
  abnormal: '#b35c00',
  unknown: '#495057',
};

export function RangeBar({ obs }: { obs: Observation }) {
  const value = obs.valueQuantity?.value;
  const range = obs.referenceRange?.[0];
  const level = levelOf(value, range, obs.interpretation);
  const bar = value !== undefined ? rangeBar(value, range) : undefined;
  return (
    <div>
      {bar && (
        <div aria-hidden="true" style={{ position: 'relative', height: 12, background: '#e9ecef', borderRadius: 6, margin: '6px 0' }}>
          <div style={{ position: 'absolute', left: `${bar.start}%`, width: `${bar.end - bar.start}%`, top: 0, bottom: 0, background: '#b2f2bb', borderRadius: 6 }} />
          <div style={{ position: 'absolute', left: `calc(${bar.pos}% - 7px)`, top: -3, width: 14, height: 18, borderRadius: 7, background: COLOR[level], border: '2px solid white' }} />
        </div>
      )}
      <div style={{ color: COLOR[level], fontWeight: level === 'normal' ? 400 : 600 }} data-level={level}>
        {level !== 'normal' && level !== 'unknown' ? '⚠ ' : ''}
        {levelText(level)}
        {rangeText(range) ? ` (normal: ${rangeText(range)})` : ''}
      </div>
    </div>
  );
}
