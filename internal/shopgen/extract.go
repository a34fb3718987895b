package shopgen

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed" // the Online Retail extract
	"fmt"
)

// onlineRetailExtract is a small extract of UCI Online Retail (CC BY 4.0;
// origin, licence and selection in testdata/README.md), embedded so the
// demo shows real trading history in a checkout without the full file.
//
//go:embed testdata/online_retail_extract.csv.gz
var onlineRetailExtract []byte

// OnlineRetailExtractCustomers is how many customers the extract holds.
const OnlineRetailExtractCustomers = 221

// LoadOnlineRetailExtract is LoadOnlineRetail on the embedded extract.
func LoadOnlineRetailExtract(ctx context.Context, sink Sink) (Stats, error) {
	gz, err := gzip.NewReader(bytes.NewReader(onlineRetailExtract))
	if err != nil {
		return Stats{}, fmt.Errorf("load online retail extract: %w", err)
	}
	defer gz.Close()
	st, err := ReadOnlineRetail(ctx, gz, sink)
	if err != nil {
		return st, fmt.Errorf("load online retail extract: %w", err)
	}
	return st, nil
}
