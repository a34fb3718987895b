package ingest

import (
	"fmt"
	"io"

	"github.com/cvo-app/cvo/internal/postgres"
)

// bulkSource streams a bulk result file as staged rows (postgres.StageSource):
// one line at a time through a fixed buffer, so memory does not grow with
// the file. A malformed line stops it with an error naming the line.
type bulkSource struct {
	resource postgres.Resource
	lines    *lineReader
	buf      rowBuf
	next     int // index in buf.rows of the row Next hands out next
	cur      postgres.StageRow
	objects  int64
	err      error

	// progress, when set, is called every progressEvery objects.
	progress      func(objects int64)
	progressEvery int64
	// hook, set by tests, sees every object count and can stop the stream.
	hook func(objects int64) error
}

func newBulkSource(r postgres.Resource, body io.Reader) *bulkSource {
	return &bulkSource{resource: r, lines: newLineReader(body), progressEvery: 10_000}
}

func (s *bulkSource) Next() bool {
	for s.next >= len(s.buf.rows) {
		if s.err != nil {
			return false
		}
		line := s.lines.next()
		if line == nil {
			if err := s.lines.error(); err != nil {
				s.err = fmt.Errorf("%s export: %w", s.resource, err)
			}
			return false
		}
		if s.hook != nil {
			if err := s.hook(s.objects); err != nil {
				s.err = fmt.Errorf("%s export: %w", s.resource, err)
				return false
			}
		}
		if err := parseBulkLine(s.resource, line, &s.buf); err != nil {
			s.err = fmt.Errorf("%s export line %d: %w", s.resource, s.lines.line(), err)
			return false
		}
		s.objects++
		s.next = 0
		if s.progress != nil && s.objects%s.progressEvery == 0 {
			s.progress(s.objects)
		}
	}
	s.cur = s.buf.rows[s.next]
	s.next++
	return true
}

func (s *bulkSource) Row() postgres.StageRow { return s.cur }
func (s *bulkSource) Err() error             { return s.err }

// errInjected marks failures injected by tests.
var errInjected = fmt.Errorf("injected failure")
