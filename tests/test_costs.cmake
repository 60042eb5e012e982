# What the longest tests cost, in seconds of the ASan+UBSan build (ci-local, 2026-12-03), so that
# `ctest -j` starts them first. ctest orders by its Testing/Temporary/CTestCostData.txt, but CI
# runs on a fresh clone that has none, and then it starts tests in the order they were declared:
# docs_examples (declared last) and ReadmeTest (~100 s) started among the last and ran on alone
# for a minute after the rest had finished. A COST set here wins over the measured one; a name no
# longer declared is ignored (ctest's set_tests_properties skips unknown tests), and a new long
# test belongs here. Included by tests/CMakeLists.txt after the gtest discovery files, so the
# discovered tests (src/ is read before tests/) exist when it runs; the tests add_test() declares
# in tests/CMakeLists.txt come after it and get their COST there.
set(_df_costs
  # Release only (skipped under ASan): its longest, 358 s and 138 s there on 2026-12-05.
  AggregatesTest.TwoHundredThousandMockApiUsersEqualPython 400
  ReadmeTest.CommandsWorkInOrderOnAFreshDirectory 150
  # ASan+UBSan, ci-local 2026-12-05 (a slower machine than the figures below).
  AggregatesKafkaTest.TwoProcessMembersShareThePartitionsThenExact 237
  AggregatesCrashTest.KillNineTwiceDuringAggregationThenExact 135
  AggregatesTest.FixtureCapturesEqualPython 92
  SecretsTest.FlagsWithSecretsAgainstUnreachableServers 26
  SecretsTest.PipelineFileWithEnvSecretsAgainstUnreachableServers 24
  CassandraTest.TwoProcessMembersShareTheStoreAndOneIsKilled 28
  KafkaTest.TwoMembersShareThePartitionsAndOneIsKilled 23
  DataDirBackendsTest.InspectionUsesTheRecordedKafkaLogAndFlagsOverride 19
  KafkaTest.BrokerDownMidRunLosesNothing 19
  KafkaTest.ProcessMemberKilledAndRestartedLeavesItsStoreExact 18
  PostgresCdcTest.ChangesReachTheStoreExactlyOnceThroughAKillNine 18
  KafkaTest.LeaderChangesAndRequestErrorsLoseNothing 17
  KafkaTest.FullPipelineOverKafkaCheckedWithKcat 16
  CassandraTest.EndpointKilledAndRestartedMidRunLosesNothing 16
  KafkaTest.IngestKilledMidRunAndRestartedSendsEachRecordOnce 15
  LostRecordsTest.KafkaRetentionDeletesRecordsBeforeTheProcessorReadsThem 15
  CdcTruncateTest.KillNineAmongTruncatesLosesAndRepeatsNothing 15
  KafkaLogTest.AFailedCommitIsSentAgainAfterTheRebalanceForThePartitionKept 13
  CassandraTest.StalledEndpointBoundsMemoryAndLosesNothing 13
  KafkaTest.ConfigurationErrorsAreOneLine 11
  ClientCountersTest.PostgresqlKilledAndRestartedIsOneErrorAndOneReconnect 11
  PostgresStagingTest.ServerRestartMidRunLosesAndDoublesNothing 10
  LostRecordsTest.KafkaTopicMadeAgainGrownPastTheStoredOffsetIsReadFromItsStart 10
  ReplayTest.OverHttpWithRolesAndRefusedWhileTheStoreIsReadOnly 12
  ReplayTest.KilledMidReplayThenReplayedAgainStoresEveryLetterOnce 8
  PipelineApiExternalTest.KafkaAndPostgresStatusTopicsRecords 11
  HttpTablesTest.PagingWhileThePipelineWrites 8
  HttpAuthSharedTest.TwoServersShareUsersThroughPostgres 5
  MetricsTest.PrometheusScrapesARunningPipeline 8
  MetricsTest.IngestAndProcessRolesOverKafkaServeMetrics 7
  MetricsTest.ServeLintsCleanCountsDeadLettersByReasonAndIsOpenOnLoopbackOnly 6)
while(_df_costs)
  list(POP_FRONT _df_costs _df_name _df_cost)
  set_tests_properties("${_df_name}" PROPERTIES COST ${_df_cost})
endwhile()
