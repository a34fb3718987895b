import {DataTable, Pagination} from '@shopify/polaris';
import type {ReactNode} from 'react';
import {useContext, useMemo, useState} from 'react';

import {AppContext} from '../context';
import {COLUMN_HELP} from '../glossary';

export interface Column<T> {
  heading: string;
  numeric?: boolean;
  // sortValue makes the column sortable; missing values sort last.
  sortValue?: (row: T) => number | string | null | undefined;
  render: (row: T) => ReactNode;
}

interface Props<T> {
  columns: Column<T>[];
  rows: T[];
  initialSort?: {column: number; direction: 'ascending' | 'descending'};
  // pageSize splits long tables (a shop's thousands of products) into pages.
  pageSize?: number;
  // label names the rows for the pagination's screen-reader labels.
  label?: string;
}

export function sortRows<T>(rows: T[], value: (row: T) => number | string | null | undefined, direction: 'ascending' | 'descending'): T[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const missingA = va === null || va === undefined || (typeof va === 'number' && !Number.isFinite(va));
    const missingB = vb === null || vb === undefined || (typeof vb === 'number' && !Number.isFinite(vb));
    if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
    if (typeof va === 'number' && typeof vb === 'number') return sign * (va - vb);
    return sign * String(va).localeCompare(String(vb));
  });
}

// SortableTable is Polaris's DataTable with client-side sorting (the sort
// buttons in the headings are real buttons, reachable by keyboard) and,
// for long tables, client-side pages.
export function SortableTable<T>({columns, rows, initialSort, pageSize, label = 'rows'}: Props<T>) {
  const ctx = useContext(AppContext);
  const [sort, setSort] = useState(initialSort);
  const [page, setPage] = useState(0);
  const sorted = useMemo(() => {
    const col = sort ? columns[sort.column] : undefined;
    if (!sort || !col?.sortValue) return rows;
    return sortRows(rows, col.sortValue, sort.direction);
  }, [rows, columns, sort]);

  const size = pageSize && pageSize > 0 ? pageSize : sorted.length || 1;
  const pages = Math.max(1, Math.ceil(sorted.length / size));
  const current = Math.min(page, pages - 1);
  const shown = pages > 1 ? sorted.slice(current * size, (current + 1) * size) : sorted;
  const n = (v: number) => (ctx ? ctx.fmt.integer(v) : String(v));

  return (
    <>
      <DataTable
        columnContentTypes={columns.map((c) => (c.numeric ? 'numeric' : 'text'))}
        headings={columns.map((c) =>
          COLUMN_HELP[c.heading] ? (
            <span key={c.heading} className="cvo-defined" title={COLUMN_HELP[c.heading]} data-definition={c.heading}>
              {c.heading}
            </span>
          ) : (
            c.heading
          ),
        )}
        rows={shown.map((r) => columns.map((c) => c.render(r)))}
        sortable={columns.map((c) => !!c.sortValue)}
        defaultSortDirection="descending"
        initialSortColumnIndex={initialSort?.column}
        onSort={(column, direction) => {
          setSort(direction === 'none' ? undefined : {column, direction});
          setPage(0);
        }}
        hoverable
      />
      {pages > 1 ? (
        <div className="cvo-card-body cvo-pagination">
          <Pagination
            hasPrevious={current > 0}
            hasNext={current < pages - 1}
            onPrevious={() => setPage(current - 1)}
            onNext={() => setPage(current + 1)}
            label={`${n(current * size + 1)}–${n(Math.min(sorted.length, (current + 1) * size))} of ${n(sorted.length)}`}
            accessibilityLabels={{previous: `Previous page of ${label}`, next: `Next page of ${label}`}}
          />
        </div>
      ) : null}
    </>
  );
}
