// minio-admin: the few MinIO admin calls the test platform needs (hack/services.sh), over madmin-go at the version
// MinIO's go.mod requires.
//
//	minio-admin -endpoint HOST:PORT -user ROOT_USER -password ROOT_PASSWORD add-user ACCESS_KEY SECRET_KEY POLICY_NAME POLICY_FILE
//
// add-user creates (or updates) the canned policy POLICY_NAME from the IAM policy JSON in POLICY_FILE and the user
// ACCESS_KEY with SECRET_KEY, and attaches the policy to the user (the user then has that policy only). Running it
// again with the same arguments changes nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
)

func main() {
	endpoint := flag.String("endpoint", "", "MinIO's host:port")
	user := flag.String("user", os.Getenv("MINIO_ROOT_USER"), "root user (default $MINIO_ROOT_USER)")
	password := flag.String("password", os.Getenv("MINIO_ROOT_PASSWORD"), "root password (default $MINIO_ROOT_PASSWORD)")
	secure := flag.Bool("tls", false, "use https")
	flag.Parse()
	args := flag.Args()
	if *endpoint == "" || len(args) == 0 {
		fail("usage: minio-admin -endpoint HOST:PORT -user ROOT -password PW add-user ACCESS_KEY SECRET_KEY POLICY_NAME POLICY_FILE")
	}
	adm, err := madmin.New(*endpoint, *user, *password, *secure)
	if err != nil {
		fail("minio-admin: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch args[0] {
	case "add-user":
		if len(args) != 5 {
			fail("usage: minio-admin ... add-user ACCESS_KEY SECRET_KEY POLICY_NAME POLICY_FILE")
		}
		access, secret, policyName, policyFile := args[1], args[2], args[3], args[4]
		policy, err := os.ReadFile(policyFile)
		if err != nil {
			fail("minio-admin: %v", err)
		}
		if err := adm.AddCannedPolicy(ctx, policyName, policy); err != nil {
			fail("minio-admin: adding policy %s: %v", policyName, err)
		}
		if err := adm.AddUser(ctx, access, secret); err != nil {
			fail("minio-admin: adding user %s: %v", access, err)
		}
		//nolint:staticcheck // SetPolicy replaces the user's policies and is idempotent; AttachPolicy fails when the
		// policy is already attached.
		if err := adm.SetPolicy(ctx, policyName, access, false); err != nil {
			fail("minio-admin: attaching policy %s to %s: %v", policyName, access, err)
		}
		fmt.Printf("user %s has policy %s\n", access, policyName)
	default:
		fail("minio-admin: unknown command %q (known: add-user)", args[0])
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}
