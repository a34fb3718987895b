import {DataTable} from '@shopify/polaris';
import type {ReactNode} from 'react';
import {useMemo, useState} from 'react';

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
  footer?: ReactNode;
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

// SortableTable is Polaris's DataTable with client-side sorting: the sort
// buttons in the headings are real buttons, reachable by keyboard.
export function SortableTable<T>({columns, rows, initialSort, footer}: Props<T>) {
  const [sort, setSort] = useState(initialSort);
  const sorted = useMemo(() => {
    const col = sort ? columns[sort.column] : undefined;
    if (!sort || !col?.sortValue) return rows;
    return sortRows(rows, col.sortValue, sort.direction);
  }, [rows, columns, sort]);

  return (
    <DataTable
      columnContentTypes={columns.map((c) => (c.numeric ? 'numeric' : 'text'))}
      headings={columns.map((c) => c.heading)}
      rows={sorted.map((r) => columns.map((c) => c.render(r)))}
      sortable={columns.map((c) => !!c.sortValue)}
      defaultSortDirection="descending"
      initialSortColumnIndex={initialSort?.column}
      onSort={(column, direction) => setSort(direction === 'none' ? undefined : {column, direction})}
      footerContent={footer}
      hoverable
    />
  );
}
