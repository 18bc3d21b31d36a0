package metricalias

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAliasExportsTheSourceSamplesUnderItsName(t *testing.T) {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropped_messages_total", Help: "h"}, []string{"reason"})
	dropped.WithLabelValues("queue_full").Add(3)
	dropped.WithLabelValues("publish_failed")
	active := prometheus.NewGauge(prometheus.GaugeOpts{Name: "subscriptions_active", Help: "h"})
	active.Set(7)
	active.Dec()

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(dropped, active,
		New(dropped, "dropped_total", "Old name.", prometheus.CounterValue, "reason"),
		New(active, "subscriptions_total", "Old name.", prometheus.GaugeValue))

	want := `
# HELP dropped_total Old name.
# TYPE dropped_total counter
dropped_total{reason="publish_failed"} 0
dropped_total{reason="queue_full"} 3
# HELP subscriptions_total Old name.
# TYPE subscriptions_total gauge
subscriptions_total 6
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "dropped_total", "subscriptions_total"); err != nil {
		t.Fatal(err)
	}
}
