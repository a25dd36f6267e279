// Program bundle-validate validates an OLM bundle directory the way
//
//	operator-sdk bundle validate DIR --select-optional suite=operatorframework
//
// does in operator-sdk v1.42.0, with the same operator-framework/api and operator-registry releases (see go.mod). It
// exists because the Go module proxy refuses github.com/operator-framework/operator-sdk, so operator-sdk cannot be
// built for the tests; `bundle validate` is a thin command over those two libraries, mirrored here from
// operator-sdk v1.42.0:
//
//   - internal/cmd/operator-sdk/bundle/validate/validate.go  (bundleValidateCmd.run, getBundleDataFromDir, relWd)
//   - internal/registry/validate.go                         (ValidateBundleContent: the default validators)
//   - internal/registry/labels.go                           (FindBundleMetadata)
//   - internal/cmd/operator-sdk/bundle/validate/optional.go (optionalValidators and the objects they get)
//   - internal/validate/result.go                           (Result: how errors and warnings are collected)
//
// Usage: bundle-validate [--fail-on-warnings] [--optional-values k=v,...] BUNDLE_DIR
//
// Prints one line per finding, "error: MESSAGE" or "warning: MESSAGE", on stdout in the order operator-sdk reports
// them. Exits 1 on any error (as operator-sdk does), 2 on warnings only when --fail-on-warnings is given, else 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apimanifests "github.com/operator-framework/api/pkg/manifests"
	apivalidation "github.com/operator-framework/api/pkg/validation"
	apierrors "github.com/operator-framework/api/pkg/validation/errors"
	interfaces "github.com/operator-framework/api/pkg/validation/interfaces"
	registrybundle "github.com/operator-framework/operator-registry/pkg/lib/bundle"
	"github.com/sirupsen/logrus"
	k8svalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// suiteOperatorFramework is what `--select-optional suite=operatorframework` selects from operator-sdk v1.42.0's
// optionalValidators (optional.go): every validator labelled suite=operatorframework, in that file's order. The
// deprecated OperatorHubValidator ("operatorhub") carries only name=operatorhub there since the v2 split, and the
// community and multiarch validators carry no suite label, so none of those three run.
var suiteOperatorFramework = []struct {
	name string
	interfaces.Validator
}{
	{"operatorhubv2", apivalidation.OperatorHubV2Validator},
	{"capabilities", apivalidation.StandardCapabilitiesValidator},
	{"categories", apivalidation.StandardCategoriesValidator},
	{"alpha-deprecated-apis", apivalidation.AlphaDeprecatedAPIsValidator},
	{"good-practices", apivalidation.GoodPracticesValidator},
}

// finding is one line of output: a logrus level name ("error" or "warning") and a message.
type finding struct {
	level   string
	message string
}

type result struct{ findings []finding }

// addError mirrors Result.AddError: a registry ValidationError is split into its errors.
func (r *result) addError(err error) {
	var verr registrybundle.ValidationError
	if errors.As(err, &verr) {
		for _, e := range verr.Errors {
			r.findings = append(r.findings, finding{logrus.ErrorLevel.String(), e.Error()})
		}
		return
	}
	r.findings = append(r.findings, finding{logrus.ErrorLevel.String(), err.Error()})
}

// addManifestResults mirrors Result.AddManifestResults: per result, its warnings, then its errors.
func (r *result) addManifestResults(results ...apierrors.ManifestResult) {
	for _, mr := range results {
		for _, w := range mr.Warnings {
			r.findings = append(r.findings, finding{logrus.WarnLevel.String(), w.Error()})
		}
		for _, e := range mr.Errors {
			r.addError(e)
		}
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("bundle-validate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	failOnWarnings := flags.Bool("fail-on-warnings", false, "exit 2 when there are warnings but no errors")
	optionalValues := keyValues{}
	flags.Var(optionalValues, "optional-values",
		"key=value pairs passed to the optional validators, as operator-sdk's --optional-values (e.g. k8s-version=1.33)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: bundle-validate [--fail-on-warnings] [--optional-values k=v,...] BUNDLE_DIR")
		flags.PrintDefaults()
	}
	// Flags may come before or after the directory.
	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			return 64
		}
		if flags.NArg() == 0 {
			break
		}
		if consumed := len(args) - flags.NArg(); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, flags.Args()...)
			break
		}
		positional = append(positional, flags.Arg(0))
		args = flags.Args()[1:]
	}
	if len(positional) != 1 {
		flags.Usage()
		return 64
	}

	logger := logrus.New()
	logger.SetOutput(stderr)
	entry := logrus.NewEntry(logger)

	res, err := validate(entry, positional[0], optionalValues)
	if err != nil {
		// operator-sdk logs this with logger.Fatal and exits 1.
		fmt.Fprintf(stderr, "fatal: %v\n", err)
		return 1
	}
	var errs, warnings int
	for _, f := range res.findings {
		fmt.Fprintf(stdout, "%s: %s\n", f.level, f.message)
		if f.level == logrus.ErrorLevel.String() {
			errs++
		} else {
			warnings++
		}
	}
	switch {
	case errs > 0:
		return 1
	case warnings > 0 && *failOnWarnings:
		return 2
	}
	fmt.Fprintln(stderr, "All validation tests have completed successfully")
	return 0
}

// validate is bundleValidateCmd.run for a bundle directory (no image unpacking, no external validators).
func validate(logger *logrus.Entry, bundleDir string, optionalValues map[string]string) (*result, error) {
	if _, err := os.Stat(bundleDir); err != nil {
		return nil, err
	}
	dir, err := relWd(bundleDir)
	if err != nil {
		return nil, err
	}
	bundle, mediaType, err := getBundleDataFromDir(dir)
	if err != nil {
		return nil, err
	}
	res := &result{}
	// ValidateBundleFormat reads the directory only; the image registry is used for pulling images alone.
	val := registrybundle.NewImageValidator(nil, logger.WithFields(logrus.Fields{"bundle-dir": dir}))
	if err := val.ValidateBundleFormat(dir); err != nil {
		res.addError(fmt.Errorf("error validating format in %s: %v", dir, err))
	}
	res.addManifestResults(validateBundleContent(bundle, mediaType)...)
	res.addManifestResults(runOptionalValidators(bundle, optionalValues)...)
	return res, nil
}

// runOptionalValidators is validators.run with the selector suite=operatorframework.
func runOptionalValidators(bundle *apimanifests.Bundle, optionalValues map[string]string) (results []apierrors.ManifestResult) {
	// As operator-sdk: every exposed bundle object (bundle.Objects twice, as it does), then the optional values.
	objs := bundle.ObjectsToValidate()
	for _, obj := range bundle.Objects {
		objs = append(objs, obj)
	}
	objs = append(objs, optionalValues)
	for _, v := range suiteOperatorFramework {
		results = append(results, v.Validate(objs...)...)
	}
	return results
}

// validateBundleContent is operator-sdk's internal/registry.ValidateBundleContent: the default validators.
func validateBundleContent(bundle *apimanifests.Bundle, mediaType string) []apierrors.ManifestResult {
	errs := apierrors.ManifestResult{Name: bundle.Name}
	if mediaType == registrybundle.HelmType {
		return []apierrors.ManifestResult{errs}
	}
	for _, u := range bundle.Objects {
		gvk := u.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "ClusterServiceVersion" || gvk.Kind == "CustomResourceDefinition" {
			continue
		}
		supported, _ := registrybundle.IsSupported(gvk.Kind)
		if mediaType == registrybundle.RegistryV1Type && !supported {
			errs.Add(apierrors.ErrInvalidBundle(fmt.Sprintf("unsupported media type %s for bundle object", mediaType), gvk))
			continue
		}
		if err := validateObject(metav1.Object(u)); err != nil {
			errs.Add(apierrors.ErrFailedValidation(err.Error(), u.GetName()))
		}
	}

	results := apivalidation.BundleValidator.Validate(bundle)
	if bundle.CSV != nil {
		results = append(results, apivalidation.ClusterServiceVersionValidator.Validate(bundle.CSV)...)
	} else {
		errs.Add(apierrors.ErrInvalidBundle("no ClusterServiceVersion in bundle", bundle.Name))
	}
	var crds []interface{}
	for _, crd := range bundle.V1beta1CRDs {
		crds = append(crds, crd)
	}
	for _, crd := range bundle.V1CRDs {
		crds = append(crds, crd)
	}
	if len(crds) != 0 {
		results = append(results, apivalidation.CustomResourceDefinitionValidator.Validate(crds...)...)
	}
	return appendResult(results, errs)
}

// validateObject validates an arbitrary object's metadata.
func validateObject(obj metav1.Object) error {
	f := func(string, bool) []string { return nil }
	errs := k8svalidation.ValidateObjectMetaAccessor(obj, false, f, field.NewPath("metadata"))
	if len(errs) > 0 {
		return fmt.Errorf("error validating object: %s. %v", errs.ToAggregate(), obj)
	}
	return nil
}

// appendResult merges r into the result of the same name, or appends it.
func appendResult(results []apierrors.ManifestResult, r apierrors.ManifestResult) []apierrors.ManifestResult {
	for i := range results {
		if results[i].Name == r.Name {
			results[i].Add(r.Errors...)
			results[i].Add(r.Warnings...)
			return results
		}
	}
	return append(results, r)
}

// getBundleDataFromDir reads the bundle's annotations for its manifests directory, its media type and the bundle.
func getBundleDataFromDir(dir string) (*apimanifests.Bundle, string, error) {
	metadata, err := findBundleMetadata(dir)
	if err != nil {
		return nil, "", err
	}
	manifestsDirName := registrybundle.ManifestsDir
	if value, ok := metadata[registrybundle.ManifestsLabel]; ok {
		manifestsDirName = filepath.Clean(value)
	}
	manifestsDir := filepath.Join(dir, manifestsDirName)
	mediaType, err := registrybundle.GetMediaType(manifestsDir)
	if err != nil {
		return nil, "", err
	}
	bundle, err := apimanifests.GetBundleFromDir(manifestsDir)
	if err != nil {
		return nil, "", err
	}
	return bundle, mediaType, nil
}

// findBundleMetadata is FindBundleMetadata: metadata/annotations.yaml, else the first file below bundleRoot that
// holds annotations.
func findBundleMetadata(bundleRoot string) (map[string]string, error) {
	path := filepath.Join(bundleRoot, registrybundle.MetadataDir, registrybundle.AnnotationsFile)
	annotations, err := readAnnotations(path)
	if (err == nil && len(annotations) != 0) || (err != nil && !errors.Is(err, os.ErrNotExist)) {
		return annotations, err
	}
	annotations = map[string]string{}
	err = filepath.Walk(bundleRoot, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if len(annotations) != 0 || info.IsDir() || strings.HasPrefix(path, ".") {
			return nil
		}
		if found, err := readAnnotations(path); err == nil {
			annotations = found
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(annotations) == 0 {
		return nil, fmt.Errorf("metadata not found in %s", bundleRoot)
	}
	return annotations, nil
}

func readAnnotations(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	annotations := registrybundle.AnnotationMetadata{Annotations: map[string]string{}}
	if err := yaml.Unmarshal(b, &annotations); err != nil {
		return nil, fmt.Errorf("error unmarshalling potential bundle metadata %s: %v", path, err)
	}
	return annotations.Annotations, nil
}

// relWd returns dir relative to the working directory, as operator-sdk names the bundle in its messages.
func relWd(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Rel(wd, abs)
}

// keyValues is a flag of comma-separated key=value pairs, as pflag's StringToString.
type keyValues map[string]string

func (kv keyValues) String() string {
	pairs := make([]string, 0, len(kv))
	for k, v := range kv {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (kv keyValues) Set(value string) error {
	for _, pair := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", pair)
		}
		kv[k] = v
	}
	return nil
}
