// Program otelcol is the OpenTelemetry Collector the zot-operator tests run: an OTLP receiver (gRPC and HTTP) and a
// file exporter, so a test can read the spans the operator exported as OTLP JSON lines.
//
// It is what the OpenTelemetry Collector Builder (go.opentelemetry.io/collector/cmd/builder) generates for the
// manifest "receivers: otlpreceiver; exporters: fileexporter, debugexporter; providers: env, file, yaml", written out
// by hand so that building it needs nothing but `go build`. Versions are pinned in go.mod; hack/tools.sh checks that
// they match OTELCOL_VERSION in hack/versions.env and builds it into the tool cache.
package main

import (
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version is set with -ldflags "-X main.version=..." by hack/tools.sh.
var version = "dev"

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol",
			Description: "OpenTelemetry Collector for zot-operator tests (OTLP receiver, file and debug exporters)",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		// cobra has printed the error already.
		os.Exit(1)
	}
}
