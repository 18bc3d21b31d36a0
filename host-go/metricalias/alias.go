// Package metricalias exports a Prometheus metric under a second name, so
// that a metric renamed since the first release keeps its old name too:
// dashboards and alerts written against the first release keep working.
package metricalias

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Alias is a collector that re-exports every sample of a counter or gauge
// (with or without labels) under another name.
type Alias struct {
	source prometheus.Collector
	desc   *prometheus.Desc
	kind   prometheus.ValueType
	labels []string
}

// New returns an Alias exporting source's samples as name, of kind
// (prometheus.CounterValue or prometheus.GaugeValue), with source's variable
// labels, listed in labels.
func New(source prometheus.Collector, name, help string, kind prometheus.ValueType, labels ...string) *Alias {
	return &Alias{
		source: source,
		desc:   prometheus.NewDesc(name, help, labels, nil),
		kind:   kind,
		labels: labels,
	}
}

// Describe implements prometheus.Collector.
func (a *Alias) Describe(ch chan<- *prometheus.Desc) { ch <- a.desc }

// Collect implements prometheus.Collector: one sample per sample of the
// source, with the same value and label values.
func (a *Alias) Collect(ch chan<- prometheus.Metric) {
	samples := make(chan prometheus.Metric, 16)
	go func() {
		a.source.Collect(samples)
		close(samples)
	}()
	for m := range samples {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			ch <- prometheus.NewInvalidMetric(a.desc, err)
			continue
		}
		value := d.GetGauge().GetValue()
		if a.kind == prometheus.CounterValue {
			value = d.GetCounter().GetValue()
		}
		values := make([]string, len(a.labels))
		for i, name := range a.labels {
			for _, p := range d.GetLabel() {
				if p.GetName() == name {
					values[i] = p.GetValue()
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(a.desc, a.kind, value, values...)
	}
}
