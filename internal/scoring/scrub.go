package scoring

import (
	"math"
	"reflect"
)

// scrubNonFinite sets every NaN or infinite float in the result's
// aggregates to 0 and counts them. JSON cannot carry such numbers, and a
// snapshot that fails to marshal would lose the whole run; the count goes
// into the warnings because any hit is a bug somewhere upstream. Fields
// JSON skips are skipped too: Customers (assemble makes their numbers
// finite field by field) and the reports' million RFM assignments.
func scrubNonFinite(r *Result) int {
	return scrubValue(reflect.ValueOf(r).Elem())
}

func scrubValue(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if (math.IsNaN(f) || math.IsInf(f, 0)) && v.CanSet() {
			v.SetFloat(0)
			return 1
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return scrubValue(v.Elem())
		}
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				n += scrubValue(v.Field(i))
			}
		}
		return n
	case reflect.Slice, reflect.Array:
		n := 0
		for i := range v.Len() {
			n += scrubValue(v.Index(i))
		}
		return n
	case reflect.Map:
		n := 0
		iter := v.MapRange()
		for iter.Next() {
			val := reflect.New(iter.Value().Type()).Elem()
			val.Set(iter.Value())
			if k := scrubValue(val); k > 0 {
				v.SetMapIndex(iter.Key(), val)
				n += k
			}
		}
		return n
	}
	return 0
}
