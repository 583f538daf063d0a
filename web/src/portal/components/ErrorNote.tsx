// A failed call, in plain words with what to do next. Never swallowed.
import { Alert } from '@mantine/core';
import { FhirError } from '../../shared/fhir';

export function ErrorNote({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error as Error;
  let what = e.message ?? String(error);
  let todo = 'Try again in a moment.';
  if (e instanceof FhirError) {
    todo = e.status === 403 ? 'This is not part of your record, or you are not allowed to do this.' : e.whatToDo;
    what = e.issues.map((i) => i.text).join('; ') || what;
  }
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      {what} {todo}
    </Alert>
  );
}
