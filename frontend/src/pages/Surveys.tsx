import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  ChoiceList,
  FormLayout,
  InlineGrid,
  InlineStack,
  Layout,
  Pagination,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import {useEffect, useMemo, useState} from 'react';

import type {GroupTally, NpsTally, Survey, SurveyAnswer, SurveyTemplate} from '../api/types';
import {useApi} from '../api/useApi';
import {toast} from '../appBridge';
import {DataPage, EmptyCard} from '../components/PageState';
import type {Column} from '../components/SortableTable';
import {npsTone, SurveyAnswerText} from '../components/SurveyAnswerText';
import {SortableTable} from '../components/SortableTable';
import {useApp} from '../context';
import {saveBlob} from '../download';
import {KNOWN_GROUPS} from '../groups';
import type {QuestionForm, SurveyForm} from '../surveyForm';
import {fromSurvey, npsLabel, surveyInput, validate} from '../surveyForm';

type View = {kind: 'list'} | {kind: 'edit'; survey?: Survey; template?: SurveyTemplate} | {kind: 'results'; id: number};

export function SurveysPage() {
  const state = useApi('surveys', (api, signal) => api.GET('/surveys', {signal}));
  const [view, setView] = useState<View>({kind: 'list'});
  const back = () => {
    setView({kind: 'list'});
    state.reload();
  };
  return (
    <DataPage name="surveys" title="Surveys" subtitle="What customers say, group by group" state={state}>
      {(d) => {
        const surveys = (d.surveys ?? []) as Survey[];
        const templates = (d.templates ?? []) as SurveyTemplate[];
        if (view.kind === 'edit') return <SurveyEditor survey={view.survey} template={view.template} onDone={back} />;
        if (view.kind === 'results') {
          const s = surveys.find((x) => x.id === view.id);
          return s ? <SurveyResultsView survey={s} onBack={back} onEdit={() => setView({kind: 'edit', survey: s})} /> : null;
        }
        return (
          <SurveyList
            surveys={surveys}
            templates={templates}
            onOpen={(s) => setView({kind: 'results', id: s.id ?? 0})}
            onEdit={(s) => setView({kind: 'edit', survey: s})}
            onNew={(t) => setView({kind: 'edit', template: t})}
          />
        );
      }}
    </DataPage>
  );
}

const STATUS_TONE = {active: 'success', draft: undefined, closed: 'critical'} as const;

function SurveyList({
  surveys,
  templates,
  onOpen,
  onEdit,
  onNew,
}: {
  surveys: Survey[];
  templates: SurveyTemplate[];
  onOpen: (s: Survey) => void;
  onEdit: (s: Survey) => void;
  onNew: (t?: SurveyTemplate) => void;
}) {
  const {fmt} = useApp();
  return (
    <Layout>
      <Layout.Section>
        {surveys.length ? (
          <BlockStack gap="300">
            {surveys.map((s) => (
              <div key={s.id} data-survey={s.key}>
              <Card>
                <BlockStack gap="200">
                  <InlineStack align="space-between" blockAlign="center">
                    <InlineStack gap="200" blockAlign="center">
                      <Text as="h2" variant="headingMd">
                        {s.title}
                      </Text>
                      <Badge tone={STATUS_TONE[s.status ?? 'draft']}>{s.status ?? 'draft'}</Badge>
                    </InlineStack>
                    <Text as="span" tone="subdued">
                      {fmt.integer(s.responses)} responses
                    </Text>
                  </InlineStack>
                  <Text as="p" tone="subdued">
                    Groups: {(s.groups ?? []).map(groupName).join(', ') || 'none'} · Link metafield: $app:cvo.{s.metafield_key}
                  </Text>
                  <InlineStack gap="200">
                    <Button onClick={() => onOpen(s)}>Results</Button>
                    <Button variant="plain" onClick={() => onEdit(s)}>
                      Edit
                    </Button>
                  </InlineStack>
                </BlockStack>
              </Card>
              </div>
            ))}
          </BlockStack>
        ) : (
          <EmptyCard heading="No surveys yet">Start from a template below: each targeted customer gets a personal, signed link.</EmptyCard>
        )}
      </Layout.Section>
      <Layout.Section>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Start a survey
          </Text>
          <InlineGrid columns={{xs: 1, md: 3}} gap="400">
            {templates.map((t) => (
              <Card key={t.id}>
                <BlockStack gap="200">
                  <Text as="h3" variant="headingSm">
                    {t.title}
                  </Text>
                  <Text as="p" tone="subdued">
                    {t.description}
                  </Text>
                  <Button onClick={() => onNew(t)} accessibilityLabel={`Start from ${t.title}`}>
                    Use template
                  </Button>
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
          <InlineStack>
            <Button variant="plain" onClick={() => onNew()}>
              Start from scratch
            </Button>
          </InlineStack>
          <Text as="p" tone="subdued">
            How to send it: each active survey writes a link into the customer metafield $app:cvo.survey_url_&#123;key&#125; of every customer in its
            groups. Put that metafield in a Shopify Email, Klaviyo or Flow message to the group&apos;s segment; add ?score=0 … ?score=10 to the link for
            one-click scores.
          </Text>
        </BlockStack>
      </Layout.Section>
    </Layout>
  );
}

function groupName(slug?: string | null): string {
  return KNOWN_GROUPS.find((g) => g.slug === slug)?.name ?? slug ?? '';
}

const LANGUAGES = [
  {label: "Customer's browser (English, French, German)", value: 'auto'},
  {label: 'English', value: 'en'},
  {label: 'French', value: 'fr'},
  {label: 'German', value: 'de'},
];

function SurveyEditor({survey, template, onDone}: {survey?: Survey; template?: SurveyTemplate; onDone: () => void}) {
  const {api} = useApp();
  const initial = useMemo(() => fromSurvey(survey ?? template?.survey), [survey, template]);
  const [form, setForm] = useState<SurveyForm>(initial);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string>();
  const [tried, setTried] = useState(false);
  const errors = validate(form);
  const shown = tried ? errors : {};
  const set =
    <K extends keyof SurveyForm>(k: K) =>
    (v: SurveyForm[K]) =>
      setForm((f) => ({...f, [k]: v}));
  const setQuestion = (i: number, q: Partial<QuestionForm>) =>
    setForm((f) => ({...f, questions: f.questions.map((x, j) => (j === i ? {...x, ...q} : x))}));

  async function save() {
    setTried(true);
    if (Object.keys(errors).length) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const body = surveyInput(form);
      if (survey?.id) await api.typed.PUT('/surveys/{id}', {params: {path: {id: survey.id}}, body});
      else await api.typed.POST('/surveys', {body});
      toast('Survey saved');
      onDone();
    } catch (e) {
      setSaveError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  }

  async function remove() {
    if (!survey?.id || !window.confirm(`Delete "${survey.title}" and all its answers?`)) return;
    try {
      await api.typed.DELETE('/surveys/{id}', {params: {path: {id: survey.id}}});
      toast('Survey deleted');
      onDone();
    } catch (e) {
      setSaveError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <Layout>
      {saveError ? (
        <Layout.Section>
          <Banner tone="critical" title="Couldn't save the survey" onDismiss={() => setSaveError(undefined)}>
            <p>{saveError}</p>
          </Banner>
        </Layout.Section>
      ) : null}
      <Layout.AnnotatedSection id="survey" title={survey ? 'Edit survey' : 'New survey'} description="Every question is optional for the customer.">
        <Card>
          <FormLayout>
            <TextField label="Title" value={form.title} onChange={set('title')} autoComplete="off" error={shown.title} />
            <TextField
              label="Key"
              value={form.key}
              onChange={set('key')}
              autoComplete="off"
              disabled={!!survey}
              error={shown.key}
              helpText={`Each customer's link is in the metafield $app:cvo.survey_url_${form.key || 'key'}. It cannot change later.`}
            />
            <Select
              label="Status"
              options={[
                {label: 'Draft (no links, no answers)', value: 'draft'},
                {label: 'Active (links written, answers taken)', value: 'active'},
                {label: 'Closed (links show "closed")', value: 'closed'},
              ]}
              value={form.status}
              onChange={(v) => set('status')(v as SurveyForm['status'])}
            />
            <TextField
              label="Recommend question (NPS, 0–10)"
              value={form.npsQuestion}
              onChange={set('npsQuestion')}
              autoComplete="off"
              error={shown.npsQuestion}
              helpText="Leave empty to not ask it."
            />
            <TextField
              label="Effort question (CES, 1–7)"
              value={form.cesQuestion}
              onChange={set('cesQuestion')}
              autoComplete="off"
              error={shown.cesQuestion}
              helpText="Leave empty to not ask it."
            />
            <TextField label="Open “why” question" value={form.whyQuestion} onChange={set('whyQuestion')} autoComplete="off" error={shown.whyQuestion} />
          </FormLayout>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection id="questions" title="Custom questions" description="Single choice, multiple choice or text.">
        <Card>
          <BlockStack gap="400">
            {form.questions.map((q, i) => (
              <FormLayout key={i}>
                <FormLayout.Group condensed>
                  <Select
                    label={`Question ${i + 1} kind`}
                    options={[
                      {label: 'Single choice', value: 'single'},
                      {label: 'Multiple choice', value: 'multiple'},
                      {label: 'Text', value: 'text'},
                    ]}
                    value={q.kind}
                    onChange={(v) => setQuestion(i, {kind: v as QuestionForm['kind']})}
                  />
                  <TextField label="Id" value={q.id} onChange={(v) => setQuestion(i, {id: v})} autoComplete="off" />
                </FormLayout.Group>
                <TextField label="Question" value={q.text} onChange={(v) => setQuestion(i, {text: v})} autoComplete="off" error={shown[`question${i}`]} />
                {q.kind !== 'text' ? (
                  <TextField label="Options, one per line" value={q.options} onChange={(v) => setQuestion(i, {options: v})} multiline={3} autoComplete="off" />
                ) : null}
                <InlineStack>
                  <Button variant="plain" tone="critical" onClick={() => setForm((f) => ({...f, questions: f.questions.filter((_, j) => j !== i)}))}>
                    Remove question {String(i + 1)}
                  </Button>
                </InlineStack>
              </FormLayout>
            ))}
            {shown.questions ? <Text as="p" tone="critical">{shown.questions}</Text> : null}
            <InlineStack>
              <Button
                onClick={() =>
                  setForm((f) => ({...f, questions: [...f.questions, {id: `q${f.questions.length + 1}`, kind: 'text', text: '', options: ''}]}))
                }
              >
                Add question
              </Button>
            </InlineStack>
          </BlockStack>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.AnnotatedSection id="targeting" title="Who and how" description="The groups whose customers get a link, and the page's look.">
        <Card>
          <FormLayout>
            <ChoiceList
              title="Target groups"
              allowMultiple
              choices={KNOWN_GROUPS.map((g) => ({label: g.name, value: g.slug}))}
              selected={form.groups}
              onChange={set('groups')}
              error={shown.groups}
            />
            <TextField label="Brand colour" value={form.brandColor} onChange={set('brandColor')} autoComplete="off" error={shown.brandColor} />
            <Select label="Language of the page" options={LANGUAGES} value={form.language} onChange={(v) => set('language')(v as SurveyForm['language'])} />
            <TextField
              label="Links live at least (days)"
              type="number"
              value={form.linkDays}
              onChange={set('linkDays')}
              autoComplete="off"
              error={shown.linkDays}
              helpText="Links are renewed once per period, so each lives between this and twice this."
            />
            <TextField
              label="Keep answers for (days)"
              type="number"
              value={form.retentionDays}
              onChange={set('retentionDays')}
              autoComplete="off"
              error={shown.retentionDays}
              helpText="Answers are personal data: older ones are deleted."
            />
          </FormLayout>
        </Card>
      </Layout.AnnotatedSection>
      <Layout.Section>
        <InlineStack gap="200" align="end">
          {survey ? (
            <Button tone="critical" onClick={() => void remove()}>
              Delete
            </Button>
          ) : null}
          <Button onClick={onDone}>Cancel</Button>
          <Button variant="primary" loading={saving} onClick={() => void save()}>
            Save survey
          </Button>
        </InlineStack>
      </Layout.Section>
    </Layout>
  );
}

function tallyColumns(fmt: ReturnType<typeof useApp>['fmt'], heading: string, label: (t: NpsTally) => string): Column<NpsTally>[] {
  return [
    {heading, sortValue: (t) => label(t), render: (t) => label(t)},
    {heading: 'Responses', numeric: true, sortValue: (t) => t.responses, render: (t) => fmt.integer(t.responses)},
    {heading: 'NPS', numeric: true, sortValue: (t) => t.nps, render: (t) => npsLabel(t.nps)},
    {heading: 'Promoters', numeric: true, sortValue: (t) => t.promoters, render: (t) => fmt.integer(t.promoters)},
    {heading: 'Detractors', numeric: true, sortValue: (t) => t.detractors, render: (t) => fmt.integer(t.detractors)},
    {heading: 'Effort (1–7)', numeric: true, sortValue: (t) => t.ces_mean, render: (t) => fmt.decimal(t.ces_mean, 1)},
  ];
}

function SurveyResultsView({survey, onBack, onEdit}: {survey: Survey; onBack: () => void; onEdit: () => void}) {
  const {api, fmt} = useApp();
  const id = survey.id ?? 0;
  const state = useApi(`survey-results-${id}`, (api, signal) => api.GET('/surveys/{id}/results', {params: {path: {id}}, signal}));
  const [exporting, setExporting] = useState(false);
  const [previewFor, setPreviewFor] = useState('');
  const [preview, setPreview] = useState<string>();

  async function exportCSV() {
    setExporting(true);
    try {
      const {blob, filename} = await api.download(`/api/surveys/${id}/export.csv`);
      saveBlob(blob, filename ?? `survey-${id}.csv`);
    } catch (e) {
      toast(`Export failed: ${e instanceof Error ? e.message : String(e)}`, {isError: true});
    } finally {
      setExporting(false);
    }
  }

  async function previewLink() {
    const customer = Number(previewFor);
    if (!Number.isInteger(customer) || customer <= 0) {
      setPreview(undefined);
      return;
    }
    try {
      const {data} = await api.typed.GET('/surveys/{id}/link', {params: {path: {id}, query: {customer_id: customer}}});
      setPreview(data?.url);
    } catch (e) {
      toast(`No link: ${e instanceof Error ? e.message : String(e)}`, {isError: true});
    }
  }

  const d = state.data;
  const groups = ((d?.by_group ?? []) as GroupTally[]).filter((g) => g.targeted || (g.tally?.responses ?? 0) > 0);
  const groupColumns: Column<GroupTally>[] = [
    {heading: 'Group', sortValue: (g) => g.name, render: (g) => <span data-group={g.group}>{g.name}</span>},
    {heading: 'Customers', numeric: true, sortValue: (g) => g.customers, render: (g) => fmt.integer(g.customers)},
    {heading: 'Responses', numeric: true, sortValue: (g) => g.tally?.responses, render: (g) => fmt.integer(g.tally?.responses)},
    {heading: 'Response rate', numeric: true, sortValue: (g) => g.response_rate, render: (g) => fmt.percent(g.response_rate)},
    {heading: 'NPS', numeric: true, sortValue: (g) => g.tally?.nps, render: (g) => <span data-cell="nps">{npsLabel(g.tally?.nps)}</span>},
    {heading: 'Effort (1–7)', numeric: true, sortValue: (g) => g.tally?.ces_mean, render: (g) => fmt.decimal(g.tally?.ces_mean, 1)},
  ];
  const blank = (t: NpsTally) => t.key || 'Unknown';
  return (
    <Layout>
      <Layout.Section>
        <InlineStack gap="200" align="space-between" blockAlign="center">
          <InlineStack gap="200" blockAlign="center">
            <Button onClick={onBack}>All surveys</Button>
            <Text as="h2" variant="headingLg">
              {survey.title}
            </Text>
          </InlineStack>
          <InlineStack gap="200">
            <Button onClick={onEdit}>Edit</Button>
            <Button onClick={() => void exportCSV()} loading={exporting}>
              Export CSV
            </Button>
          </InlineStack>
        </InlineStack>
      </Layout.Section>
      {state.error ? (
        <Layout.Section>
          <Banner tone="critical" title="Couldn't load the results">
            <p>{state.error.message}</p>
          </Banner>
        </Layout.Section>
      ) : null}
      <Layout.Section>
        <InlineGrid columns={{xs: 1, md: 3}} gap="400">
          <Card>
            <BlockStack gap="100">
              <Text as="h3" variant="headingSm">
                NPS
              </Text>
              <Text as="p" variant="heading2xl">
                <span data-metric="nps">{npsLabel(d?.overall?.nps)}</span>
              </Text>
              <Text as="p" tone="subdued">
                {fmt.integer(d?.overall?.promoters)} promoters · {fmt.integer(d?.overall?.passives)} passives · {fmt.integer(d?.overall?.detractors)}{' '}
                detractors
              </Text>
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="100">
              <Text as="h3" variant="headingSm">
                Responses
              </Text>
              <Text as="p" variant="heading2xl">
                <span data-metric="responses">{fmt.integer(d?.overall?.responses ?? 0)}</span>
              </Text>
            </BlockStack>
          </Card>
          <Card>
            <BlockStack gap="100">
              <Text as="h3" variant="headingSm">
                Effort (1 hard – 7 easy)
              </Text>
              <Text as="p" variant="heading2xl">
                {fmt.decimal(d?.overall?.ces_mean, 1)}
              </Text>
            </BlockStack>
          </Card>
        </InlineGrid>
      </Layout.Section>
      <Layout.Section>
        <Card padding="0">
          <div className="cvo-card-heading">
            <Text as="h2" variant="headingMd">
              By group
            </Text>
          </div>
          {groups.length ? <SortableTable columns={groupColumns} rows={groups} /> : <EmptyCard heading="No answers yet" />}
        </Card>
      </Layout.Section>
      <Layout.Section>
        <InlineGrid columns={{xs: 1, lg: 2}} gap="400">
          {(
            [
              ['Trend by month', 'Month', (d?.trend ?? []) as NpsTally[]],
              ['First-purchase vendor', 'Vendor', (d?.by_vendor ?? []) as NpsTally[]],
              ['First-purchase product type', 'Product type', (d?.by_product_type ?? []) as NpsTally[]],
              ['Country', 'Country', (d?.by_country ?? []) as NpsTally[]],
              ['Acquisition source', 'Source', (d?.by_source ?? []) as NpsTally[]],
            ] as const
          ).map(([title, heading, rows]) => (
            <Card padding="0" key={title}>
              <div className="cvo-card-heading">
                <Text as="h2" variant="headingMd">
                  {title}
                </Text>
              </div>
              {rows.length ? (
                <SortableTable columns={tallyColumns(fmt, heading, blank)} rows={rows} pageSize={10} label={title} />
              ) : (
                <EmptyCard heading="No answers yet" />
              )}
            </Card>
          ))}
        </InlineGrid>
      </Layout.Section>
      <Layout.Section>
        <OpenAnswers survey={survey} />
      </Layout.Section>
      <Layout.Section>
        <Card>
          <FormLayout>
            <Text as="h2" variant="headingMd">
              A customer&apos;s link
            </Text>
            <InlineStack gap="200" blockAlign="end">
              <TextField label="Customer id" value={previewFor} onChange={setPreviewFor} autoComplete="off" />
              <Button onClick={() => void previewLink()}>Show link</Button>
            </InlineStack>
            {preview ? (
              <Text as="p" breakWord>
                <a href={preview} target="_blank" rel="noreferrer" data-survey-link>
                  {preview}
                </a>
              </Text>
            ) : null}
          </FormLayout>
        </Card>
      </Layout.Section>
    </Layout>
  );
}

function OpenAnswers({survey}: {survey: Survey}) {
  const {fmt} = useApp();
  const id = survey.id ?? 0;
  const [group, setGroup] = useState('');
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  useEffect(() => {
    const t = setTimeout(() => {
      setQ(typed.trim());
      setPage(1);
    }, 300);
    return () => clearTimeout(t);
  }, [typed]);
  const state = useApi(`survey-answers-${id}-${group}-${q}-${page}`, (api, signal) =>
    api.GET('/surveys/{id}/answers', {
      params: {path: {id}, query: {...(group ? {group: group as never} : {}), ...(q ? {q} : {}), page}},
      signal,
    }),
  );
  const d = state.data;
  const answers = (d?.answers ?? []) as SurveyAnswer[];
  const pages = Math.max(1, Math.ceil((d?.total ?? 0) / (d?.per_page || 25)));
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          What they said
        </Text>
        <InlineStack gap="200" blockAlign="end">
          <Select
            label="Group"
            options={[{label: 'All groups', value: ''}, ...KNOWN_GROUPS.map((g) => ({label: g.name, value: g.slug}))]}
            value={group}
            onChange={(v) => {
              setGroup(v);
              setPage(1);
            }}
          />
          <TextField label="Search the answers" value={typed} onChange={setTyped} autoComplete="off" maxLength={200} clearButton onClearButtonClick={() => setTyped('')} />
        </InlineStack>
        {state.error ? <Text as="p" tone="critical">{state.error.message}</Text> : null}
        {answers.length ? (
          <BlockStack gap="300">
            {answers.map((a) => (
              <div key={`${a.customer_id}-${a.survey_id}`} data-answer>
                <BlockStack gap="100">
                  <InlineStack gap="200" blockAlign="center">
                    <Badge tone={a.nps === undefined || a.nps === null ? undefined : npsTone(a.nps)}>
                      {a.nps === undefined || a.nps === null ? 'no score' : `${a.nps}/10`}
                    </Badge>
                    <Text as="span" tone="subdued">
                      {groupName(a.group) || 'Not scored'} · customer {a.customer_id} · {fmt.dateTime(a.submitted_at)}
                    </Text>
                  </InlineStack>
                  <SurveyAnswerText answer={a} />
                </BlockStack>
              </div>
            ))}
            <Pagination
              hasPrevious={page > 1}
              onPrevious={() => setPage((p) => p - 1)}
              hasNext={page < pages}
              onNext={() => setPage((p) => p + 1)}
              label={`Page ${page} of ${pages}`}
            />
          </BlockStack>
        ) : (
          <Text as="p" tone="subdued">
            {state.loading ? 'Loading…' : 'No open answers match.'}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}
