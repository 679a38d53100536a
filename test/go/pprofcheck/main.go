// pprofcheck reads a pprof file with the pprof project's own parser (github.com/google/pprof/profile),
// runs CheckValid, and prints JSON: the sample types, period, duration, comments, default sample
// type, each sample's labels, and per function (name, file, start line) the flat and cum of every
// sample type (flat: the function is the innermost frame; cum: it is anywhere on the stack, counted
// once per sample). Built in GOPATH mode against Debian's golang-github-google-pprof-dev
// (test/pprof-consumers.test.ts). Usage: pprofcheck FILE
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/pprof/profile"
)

type fn struct {
	Name      string  `json:"name"`
	File      string  `json:"file"`
	StartLine int64   `json:"startLine"`
	Flat      []int64 `json:"flat"`
	Cum       []int64 `json:"cum"`
}

type out struct {
	SampleTypes       [][2]string         `json:"sampleTypes"`
	DefaultSampleType string              `json:"defaultSampleType"`
	PeriodType        [2]string           `json:"periodType"`
	Period            int64               `json:"period"`
	TimeNanos         int64               `json:"timeNanos"`
	DurationNanos     int64               `json:"durationNanos"`
	Comments          []string            `json:"comments"`
	Samples           int                 `json:"samples"`
	Totals            []int64             `json:"totals"`
	Labels            []map[string]string `json:"labels"`
	Functions         []*fn               `json:"functions"`
}

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p, err := profile.Parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(1)
	}
	if err := p.CheckValid(); err != nil {
		fmt.Fprintln(os.Stderr, "CheckValid:", err)
		os.Exit(1)
	}
	o := out{DefaultSampleType: p.DefaultSampleType, Period: p.Period, TimeNanos: p.TimeNanos, DurationNanos: p.DurationNanos, Comments: p.Comments, Samples: len(p.Sample)}
	for _, st := range p.SampleType {
		o.SampleTypes = append(o.SampleTypes, [2]string{st.Type, st.Unit})
	}
	if p.PeriodType != nil {
		o.PeriodType = [2]string{p.PeriodType.Type, p.PeriodType.Unit}
	}
	n := len(p.SampleType)
	o.Totals = make([]int64, n)
	byKey := map[string]*fn{}
	get := func(f *profile.Function) *fn {
		key := fmt.Sprintf("%s\x00%s\x00%d", f.Name, f.Filename, f.StartLine)
		r := byKey[key]
		if r == nil {
			r = &fn{Name: f.Name, File: f.Filename, StartLine: f.StartLine, Flat: make([]int64, n), Cum: make([]int64, n)}
			byKey[key] = r
			o.Functions = append(o.Functions, r)
		}
		return r
	}
	for _, s := range p.Sample {
		labels := map[string]string{}
		for k, v := range s.Label {
			labels[k] = v[0]
		}
		for k, v := range s.NumLabel {
			labels[k] = fmt.Sprint(v[0])
		}
		if len(o.Labels) < 10000 {
			o.Labels = append(o.Labels, labels)
		}
		for i, v := range s.Value {
			o.Totals[i] += v
		}
		seen := map[*fn]bool{}
		for li, loc := range s.Location {
			for j := range loc.Line {
				r := get(loc.Line[j].Function)
				if li == 0 && j == 0 {
					for i, v := range s.Value {
						r.Flat[i] += v
					}
				}
				if !seen[r] {
					seen[r] = true
					for i, v := range s.Value {
						r.Cum[i] += v
					}
				}
			}
		}
	}
	json.NewEncoder(os.Stdout).Encode(o)
}
