package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLineBytes bounds one JSONL line. Bulk lines are single objects (an
// order with its refunds, a line item...), far below this; a longer line
// means a broken file, and reading it whole would defeat streaming.
const maxLineBytes = 16 << 20

// lineReader reads a JSONL stream line by line with a fixed buffer,
// counting lines so errors can name them.
type lineReader struct {
	r    *bufio.Reader
	n    int64  // number of the line last returned, from 1
	long []byte // assembles lines longer than the buffer
	err  error
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next non-empty line without its line ending. The slice
// is valid until the following call. At the end of the stream it returns
// nil and err() is nil.
func (lr *lineReader) next() []byte {
	for lr.err == nil {
		line, err := lr.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			lr.long = append(lr.long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(lr.long) > maxLineBytes {
					lr.n++
					lr.err = fmt.Errorf("line %d: longer than %d bytes", lr.n, maxLineBytes)
					return nil
				}
				line, err = lr.r.ReadSlice('\n')
				lr.long = append(lr.long, line...)
			}
			if len(lr.long) > maxLineBytes {
				lr.n++
				lr.err = fmt.Errorf("line %d: longer than %d bytes", lr.n, maxLineBytes)
				return nil
			}
			line = lr.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			lr.err = &readError{fmt.Errorf("after line %d: %w", lr.n, err)}
			return nil
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			lr.err = io.EOF
			return nil
		}
		if errors.Is(err, io.EOF) {
			lr.err = io.EOF // the last line had no newline; return it first
		}
		lr.n++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return line
	}
	return nil
}

// line is the number of the line last returned.
func (lr *lineReader) line() int64 { return lr.n }

func (lr *lineReader) error() error {
	if errors.Is(lr.err, io.EOF) {
		return nil
	}
	return lr.err
}

// readError is a failure to read the stream itself (the download broke),
// as opposed to a malformed line: reading again may succeed.
type readError struct{ err error }

func (e *readError) Error() string { return "read: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
