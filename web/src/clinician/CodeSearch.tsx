// A code picker: type a few letters, choose a coded concept from ValueSet/$expand.
import { useState } from 'react';
import { Combobox, Loader, Text, TextInput, useCombobox } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import type { Coding } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import { ErrorBanner } from '../shared/ErrorBanner';
import type { FhirError } from '../shared/fhir';
import { expand, pickValueSet, useValueSets, type CodeField } from './terminology';

const SYSTEM_LABEL: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED CT',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://loinc.org': 'LOINC',
};

export function CodeSearch({
  field,
  label,
  value,
  onChange,
  required,
  testId,
  onTextChange,
}: {
  field: CodeField;
  label: string;
  value: Coding | undefined;
  onChange: (c: Coding | undefined) => void;
  required?: boolean;
  testId?: string;
  onTextChange?: (text: string) => void;
}) {
  const { client } = useFhir();
  const sets = useValueSets();
  const url = sets.data ? pickValueSet(sets.data, field) : undefined;
  const [text, setText] = useState(value?.display ?? '');
  const [filter] = useDebouncedValue(text, 200);
  const combobox = useCombobox();
  const q = useQuery<Coding[], FhirError>({
    queryKey: ['ValueSet', 'expand', url, filter],
    queryFn: () => expand(client, url!, filter),
    enabled: !!url && filter.length >= 2 && filter !== value?.display,
    staleTime: 60_000,
  });
  const options = q.data ?? [];
  return (
    <div>
      <Combobox
        store={combobox}
        onOptionSubmit={(key) => {
          const c = options[Number(key)];
          onChange(c);
          setText(c?.display ?? '');
          combobox.closeDropdown();
        }}
      >
        <Combobox.Target>
          <TextInput
            label={label}
            required={required}
            value={text}
            placeholder="Type at least 2 letters"
            onChange={(e) => {
              setText(e.currentTarget.value);
              onTextChange?.(e.currentTarget.value);
              onChange(undefined);
              combobox.openDropdown();
              combobox.updateSelectedOptionIndex();
            }}
            onFocus={() => combobox.openDropdown()}
            onBlur={() => combobox.closeDropdown()}
            rightSection={q.isFetching ? <Loader size="xs" /> : null}
            description={
              value?.code
                ? `${SYSTEM_LABEL[value.system ?? ''] ?? value.system ?? ''} ${value.code}`
                : sets.data && !url
                  ? 'The server has no code list for this field: load one with carechart import (docs/web-apps.md).'
                  : undefined
            }
            data-testid={testId}
          />
        </Combobox.Target>
        <Combobox.Dropdown hidden={options.length === 0}>
          <Combobox.Options mah={260} style={{ overflowY: 'auto' }}>
            {options.map((c, i) => (
              <Combobox.Option value={String(i)} key={`${c.system}|${c.code}`} data-testid="code-option">
                <Text size="sm">{c.display}</Text>
                <Text size="xs" c="dimmed">
                  {SYSTEM_LABEL[c.system ?? ''] ?? c.system} {c.code}
                </Text>
              </Combobox.Option>
            ))}
          </Combobox.Options>
        </Combobox.Dropdown>
      </Combobox>
      <ErrorBanner error={sets.error ?? q.error} title="Code search failed" />
    </div>
  );
}
