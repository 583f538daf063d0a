// Type-ahead patient search (name, birth date or identifier) with keyboard navigation.
// Patients who share a name are marked and shown with birth date, sex, MRN and town.
import { useEffect, useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Badge, Box, Group, Loader, Paper, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import type { Patient } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import { ErrorBanner } from '../shared/ErrorBanner';
import { formatAge, formatDate, formatName, formatSex, mrnOf } from '../shared/format';
import type { FhirError } from '../shared/fhir';
import { duplicateNames, patientQuery } from './searchQuery';

export function PatientSearch({ autoFocus = false, onPicked }: { autoFocus?: boolean; onPicked?: () => void }) {
  const [text, setText] = useState('');
  const [debounced] = useDebouncedValue(text, 200);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const { client } = useFhir();
  const navigate = useNavigate();
  const listId = useId();
  const q = patientQuery(debounced);
  const result = useQuery<Patient[], FhirError>({
    queryKey: ['Patient', 'typeahead', q?.searches],
    queryFn: async () => {
      const pages = await Promise.all(q!.searches.map((params) => client.searchPage<Patient>('Patient', params)));
      const seen = new Set<string>();
      return pages.flatMap((p) => p.resources).filter((p) => !seen.has(p.id!) && !!seen.add(p.id!));
    },
    enabled: !!q,
    staleTime: 30_000,
  });
  const patients = q ? (result.data ?? []) : [];
  const dups = duplicateNames(patients);
  useEffect(() => setActive(0), [debounced]);

  const pick = (p: Patient) => {
    setOpen(false);
    setText('');
    onPicked?.();
    navigate(`/patients/${p.id}`);
  };

  return (
    <Box pos="relative" w="100%" maw={520}>
      <TextInput
        aria-label="Find a patient by name, birth date or MRN"
        placeholder="Find patient: name, birth date (1962-04-17) or MRN"
        value={text}
        autoFocus={autoFocus}
        onChange={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(a + 1, patients.length - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === 'Enter' && patients[active]) {
            e.preventDefault();
            pick(patients[active]);
          } else if (e.key === 'Escape') {
            setOpen(false);
          }
        }}
        role="combobox"
        aria-expanded={open && !!q}
        aria-controls={listId}
        aria-activedescendant={patients[active] ? `${listId}-${active}` : undefined}
        aria-autocomplete="list"
        rightSection={result.isFetching ? <Loader size="xs" /> : null}
        data-testid="patient-search"
      />
      {open && q && (
        <Paper shadow="md" withBorder pos="absolute" top={40} left={0} right={0} style={{ zIndex: 300 }} p={4}>
          {result.error && <ErrorBanner error={result.error} title="Patient search failed" />}
          <Stack gap={2} id={listId} role="listbox" aria-label="Matching patients">
            {!result.isFetching && !result.error && patients.length === 0 && (
              <Text size="sm" c="dimmed" p="xs">
                No patient matches “{debounced}”. Try the family name only, a birth date as 1962-04-17, or the MRN.
              </Text>
            )}
            {patients.map((p, i) => (
              <UnstyledButton
                key={p.id}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(p)}
                onMouseEnter={() => setActive(i)}
                p="xs"
                style={{ borderRadius: 4, background: i === active ? 'var(--mantine-color-blue-0)' : undefined }}
                data-testid="patient-option"
              >
                <Group justify="space-between" wrap="nowrap">
                  <Text fw={600} size="sm">
                    {formatName(p.name, 'family-first')}
                  </Text>
                  {dups.has(p.id!) && (
                    <Badge size="xs" color="yellow" variant="filled" c="dark">
                      same name — check DOB/MRN
                    </Badge>
                  )}
                </Group>
                <Text size="xs" c="dimmed">
                  {formatDate(p.birthDate)} ({formatAge(p.birthDate)}) · {formatSex(p.gender)} · MRN {mrnOf(p.identifier) ?? '—'}
                  {p.address?.[0]?.city ? ` · ${p.address[0].city}` : ''}
                  {p.deceasedBoolean || p.deceasedDateTime ? ' · deceased' : ''}
                </Text>
              </UnstyledButton>
            ))}
          </Stack>
        </Paper>
      )}
    </Box>
  );
}
